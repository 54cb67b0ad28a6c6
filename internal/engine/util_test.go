package engine

import "fmt"

var sprintf = fmt.Sprintf
