package steps

import "errors"

// haltError marks an undo whose failure makes the later undos unsafe.
type haltError struct{ err error }

func (e *haltError) Error() string { return e.err.Error() }
func (e *haltError) Unwrap() error { return e.err }

// Halt marks err, returned by an undo, as one after which the rollback must
// stop: the undos journaled before it (applied after it) would act on a
// world that is not ready for them. The typical case is an undo that
// restores a group's capacity and cannot get it healthy: the traffic undos
// that follow would send users to a colour with nothing to serve them, so
// the rollback leaves traffic where it is and says so. A halted undo is not
// retried; it bounds its own wait.
func Halt(err error) error {
	if err == nil {
		return nil
	}
	return &haltError{err}
}

// IsHalt reports whether err was marked with Halt.
func IsHalt(err error) bool {
	var h *haltError
	return errors.As(err, &h)
}
