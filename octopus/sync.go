package octopus

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strconv"

	"github.com/OctopusDeploy/go-octopusdeploy/v2/pkg/actiontemplates"
	"github.com/OctopusDeploy/go-octopusdeploy/v2/pkg/core"
	"github.com/OctopusDeploy/go-octopusdeploy/v2/pkg/newclient"
	"github.com/OctopusDeploy/go-octopusdeploy/v2/pkg/packages"
	"github.com/OctopusDeploy/go-octopusdeploy/v2/pkg/resources"
)

// SyncOptions control Sync.
type SyncOptions struct {
	// DryRun reports what would change without changing anything.
	DryRun bool
	// UpdateUsages moves process steps that use an older version of a
	// template to its current version.
	UpdateUsages bool
}

// SyncResult says what Sync did (or, in a dry run, would do), by template name.
type SyncResult struct {
	Created   []string
	Updated   []string
	Unchanged []string
	// Usages lists the process steps that were (or would be) moved to a
	// template's current version.
	Usages []UsageUpdate
}

// UsageUpdate is one process step that uses a template.
type UsageUpdate struct {
	Template    string
	ActionID    string
	ActionName  string
	ProjectID   string
	ProcessID   string
	ProcessType string
	From, To    int
	// Outcome is the server's answer: Success, ManualMergeRequired,
	// DefaultParamterValueMissing (sic) or RemovedPackageInUse; "" in a
	// dry run.
	Outcome string
	// Reasons explains ManualMergeRequired, by property name.
	Reasons map[string][]string
}

// NeedsAttention lists the usages the server could not update by itself.
func (r *SyncResult) NeedsAttention() []UsageUpdate {
	var out []UsageUpdate
	for _, u := range r.Usages {
		if u.Outcome != "" && u.Outcome != "Success" {
			out = append(out, u)
		}
	}
	return out
}

// Sync makes the server's step templates match gen: a template that does
// not exist (by name) is created, one whose content differs is updated
// (the server then bumps its Version), one that matches is not touched.
// Templates on the server that bluegreen did not generate are left alone.
func Sync(c *Client, gen []Generated, opts SyncOptions) (*SyncResult, error) {
	existing, err := newclient.Get[[]*actiontemplates.ActionTemplate](c.API.HttpSession(), c.Path("/actiontemplates/all"))
	if err != nil {
		return nil, fmt.Errorf("list step templates in %s: %w", c.SpaceID, err)
	}
	byName := map[string]*actiontemplates.ActionTemplate{}
	for _, t := range *existing {
		byName[t.Name] = t
	}
	res := &SyncResult{}
	var current []*actiontemplates.ActionTemplate
	for _, g := range gen {
		want := c.toClient(g.Template)
		have := byName[g.Template.Name]
		switch {
		case have == nil:
			res.Created = append(res.Created, want.Name)
			if opts.DryRun {
				continue
			}
			added, err := actiontemplates.Add(c.API, want)
			if err != nil {
				return res, fmt.Errorf("create step template %q: %w", want.Name, err)
			}
			current = append(current, added)
		case sameTemplate(have, want):
			res.Unchanged = append(res.Unchanged, want.Name)
			current = append(current, have)
		default:
			res.Updated = append(res.Updated, want.Name)
			if opts.DryRun {
				current = append(current, have)
				continue
			}
			want.ID = have.ID
			want.Version = have.Version
			updated, err := actiontemplates.Update(c.API, want)
			if err != nil {
				return res, fmt.Errorf("update step template %q (%s): %w", want.Name, have.ID, err)
			}
			current = append(current, updated)
		}
	}
	if opts.UpdateUsages {
		for _, t := range current {
			if err := c.updateUsages(t, opts.DryRun, res); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

type usageResource struct {
	ActionID    string `json:"ActionId"`
	ActionName  string `json:"ActionName"`
	ProjectID   string `json:"ProjectId"`
	ProcessID   string `json:"ProcessId"`
	ProcessType string `json:"ProcessType"`
	Version     string `json:"Version"`
}

type actionsUpdate struct {
	ID                    string            `json:"Id"`
	SpaceID               string            `json:"SpaceId"`
	Version               int32             `json:"Version"`
	ActionsToUpdate       []actionsToUpdate `json:"ActionsToUpdate"`
	DefaultPropertyValues map[string]string `json:"DefaultPropertyValues"`
	Overrides             map[string]string `json:"Overrides"`
}

type actionsToUpdate struct {
	ProcessID   string   `json:"ProcessId"`
	ProcessType string   `json:"ProcessType"`
	ActionIDs   []string `json:"ActionIds"`
}

type actionUpdateResult struct {
	ID                                       string              `json:"Id"`
	Outcome                                  string              `json:"Outcome"`
	ManualMergeRequiredReasonsByPropertyName map[string][]string `json:"ManualMergeRequiredReasonsByPropertyName"`
}

// updateUsages moves every step that uses an older version of t to t's
// current version with one actionsUpdate call per template.
func (c *Client) updateUsages(t *actiontemplates.ActionTemplate, dryRun bool, res *SyncResult) error {
	usages, err := newclient.Get[[]usageResource](c.API.HttpSession(), c.Path("/actiontemplates/%s/usage", t.ID))
	if err != nil {
		return fmt.Errorf("list usage of step template %q: %w", t.Name, err)
	}
	body := actionsUpdate{ID: t.ID, SpaceID: c.SpaceID, Version: t.Version, DefaultPropertyValues: map[string]string{}, Overrides: map[string]string{}}
	// One entry per process, holding every action of it that is behind.
	index := map[[2]string]int{}
	var pending []UsageUpdate
	for _, u := range *usages {
		from, _ := strconv.Atoi(u.Version)
		if from == int(t.Version) {
			continue
		}
		pending = append(pending, UsageUpdate{Template: t.Name, ActionID: u.ActionID, ActionName: u.ActionName, ProjectID: u.ProjectID,
			ProcessID: u.ProcessID, ProcessType: u.ProcessType, From: from, To: int(t.Version)})
		k := [2]string{u.ProcessID, u.ProcessType}
		i, ok := index[k]
		if !ok {
			i = len(body.ActionsToUpdate)
			index[k] = i
			body.ActionsToUpdate = append(body.ActionsToUpdate, actionsToUpdate{ProcessID: u.ProcessID, ProcessType: u.ProcessType})
		}
		body.ActionsToUpdate[i].ActionIDs = append(body.ActionsToUpdate[i].ActionIDs, u.ActionID)
	}
	if len(pending) == 0 {
		return nil
	}
	if dryRun {
		res.Usages = append(res.Usages, pending...)
		return nil
	}
	results, err := newclient.Post[[]actionUpdateResult](c.API.HttpSession(), c.Path("/actiontemplates/%s/actionsUpdate", t.ID), body)
	if err != nil {
		return fmt.Errorf("update steps that use step template %q: %w", t.Name, err)
	}
	outcome := map[string]actionUpdateResult{}
	for _, r := range *results {
		outcome[r.ID] = r
	}
	for _, p := range pending {
		r, ok := outcome[p.ActionID]
		p.Outcome = r.Outcome
		if !ok {
			p.Outcome = "NoAnswer"
		}
		p.Reasons = r.ManualMergeRequiredReasonsByPropertyName
		res.Usages = append(res.Usages, p)
	}
	return nil
}

// toClient maps a Library-format template to go-octopusdeploy's type.
// Category, $Meta and StepPackageId have no place in it: the server keeps
// them elsewhere or derives them.
func (c *Client) toClient(t Template) *actiontemplates.ActionTemplate {
	at := actiontemplates.NewActionTemplate(t.Name, t.ActionType)
	at.Description = t.Description
	at.SpaceID = c.SpaceID
	at.Links = nil
	for _, k := range slices.Sorted(maps.Keys(t.Properties)) {
		at.Properties[k] = core.NewPropertyValue(t.Properties[k], false)
	}
	for _, p := range t.Parameters {
		ap := actiontemplates.ActionTemplateParameter{Name: p.Name, Label: p.Label, HelpText: p.HelpText, DisplaySettings: p.DisplaySettings,
			Resource: resources.Resource{ID: p.ID}}
		if p.DefaultValue != nil {
			v := core.NewPropertyValue(*p.DefaultValue, false)
			ap.DefaultValue = &v
		}
		at.Parameters = append(at.Parameters, ap)
	}
	for _, p := range t.Packages {
		at.Packages = append(at.Packages, packages.PackageReference{ID: p.ID, Name: p.Name, AcquisitionLocation: p.AcquisitionLocation, Properties: p.Properties})
	}
	return at
}

// comparable is the part of a template that sync compares. Ids and
// versions are left out: the server assigns them.
type comparable struct {
	Name, Description, ActionType string
	Properties                    map[string]string
	Parameters                    []comparableParam
	Packages                      []comparablePackage
}

type comparableParam struct {
	Name, Label, HelpText, Default string
	DisplaySettings                map[string]string
}

type comparablePackage struct {
	Name, PackageID, FeedID, AcquisitionLocation string
	Properties                                   map[string]string
}

func toComparable(t *actiontemplates.ActionTemplate) comparable {
	c := comparable{Name: t.Name, Description: t.Description, ActionType: t.ActionType, Properties: map[string]string{}}
	for k, v := range t.Properties {
		c.Properties[k] = v.Value
	}
	for _, p := range t.Parameters {
		cp := comparableParam{Name: p.Name, Label: p.Label, HelpText: p.HelpText, DisplaySettings: p.DisplaySettings}
		if p.DefaultValue != nil && !p.DefaultValue.IsSensitive {
			cp.Default = p.DefaultValue.Value
		}
		if cp.DisplaySettings == nil {
			cp.DisplaySettings = map[string]string{}
		}
		c.Parameters = append(c.Parameters, cp)
	}
	for _, p := range t.Packages {
		props := p.Properties
		if props == nil {
			props = map[string]string{}
		}
		c.Packages = append(c.Packages, comparablePackage{Name: p.Name, PackageID: p.PackageID, FeedID: p.FeedID, AcquisitionLocation: p.AcquisitionLocation, Properties: props})
	}
	sort.Slice(c.Packages, func(i, j int) bool { return c.Packages[i].Name < c.Packages[j].Name })
	return c
}

func sameTemplate(a, b *actiontemplates.ActionTemplate) bool {
	return reflect.DeepEqual(toComparable(a), toComparable(b))
}
