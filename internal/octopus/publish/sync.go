package publish

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"

	"github.com/OctopusDeploy/go-octopusdeploy/v2/pkg/newclient"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus/templates"
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
	// GitRef is the branch of a process stored in Git ("" for the database).
	GitRef   string
	From, To int
	// Outcome is the server's answer: Success, ManualMergeRequired,
	// DefaultParamterValueMissing (sic) or RemovedPackageInUse; or
	// OutcomeManualChange for a Git-stored step the server would not
	// update; "" in a dry run.
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
// not exist (by name, or by its name before the "Blue-Green - " rename) is
// created, one whose content differs is updated (the server then bumps
// its Version), one that matches is not touched. Templates on the server
// that bluegreen did not generate are left alone.
//
// Templates are read and written as the server's own JSON: an update
// changes the fields bluegreen owns (Name, Description, ActionType,
// Properties, Parameters, Packages) and sends every other field back as
// the server sent it.
func Sync(c *octopus.Client, gen []templates.Generated, opts SyncOptions) (*SyncResult, error) {
	existing, err := c.GetDocs(c.Path("/actiontemplates/all"))
	if err != nil {
		return nil, fmt.Errorf("list step templates in %s: %w", c.SpaceID, err)
	}
	byName := map[string]octopus.Doc{}
	for _, t := range existing {
		byName[octopus.DocString(t, "Name")] = t
	}
	res := &SyncResult{}
	var current []templateRef
	for _, g := range gen {
		name := g.Template.Name
		have := byName[name]
		if have == nil {
			have = byName[templates.LegacyName(name)]
		}
		switch {
		case have == nil:
			res.Created = append(res.Created, name)
			if opts.DryRun {
				continue
			}
			added, err := c.PostDoc(c.Path("/actiontemplates"), templateDoc(c, g.Template, octopus.Doc{}))
			if err != nil {
				return res, fmt.Errorf("create step template %q: %w", name, err)
			}
			current = append(current, refOf(added))
		case sameTemplate(have, templateDoc(c, g.Template, octopus.Doc{})):
			res.Unchanged = append(res.Unchanged, name)
			current = append(current, refOf(have))
		default:
			res.Updated = append(res.Updated, name)
			if opts.DryRun {
				current = append(current, refOf(have))
				continue
			}
			id := octopus.DocString(have, "Id")
			updated, err := c.PutDoc(c.Path("/actiontemplates/%s", id), templateDoc(c, g.Template, have))
			if err != nil {
				return res, fmt.Errorf("update step template %q (%s): %w", name, id, err)
			}
			current = append(current, refOf(updated))
		}
	}
	if opts.UpdateUsages {
		for _, t := range current {
			if err := updateUsages(c, t, opts.DryRun, res); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

// templateRef is what updateUsages needs of a stored template.
type templateRef struct {
	ID, Name string
	Version  int
}

func refOf(d octopus.Doc) templateRef {
	v, _ := strconv.Atoi(fmt.Sprint(d["Version"]))
	return templateRef{ID: octopus.DocString(d, "Id"), Name: octopus.DocString(d, "Name"), Version: v}
}

type usageResource struct {
	ActionID    string `json:"ActionId"`
	ActionName  string `json:"ActionName"`
	ProjectID   string `json:"ProjectId"`
	ProcessID   string `json:"ProcessId"`
	ProcessType string `json:"ProcessType"`
	Version     string `json:"Version"`
	// Branch is set for a step in a process stored in Git.
	Branch string `json:"Branch"`
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
	// GitRef names the branch of a process stored in Git.
	GitRef string `json:"GitRef,omitempty"`
}

type actionUpdateResult struct {
	ID                                       string              `json:"Id"`
	Outcome                                  string              `json:"Outcome"`
	ManualMergeRequiredReasonsByPropertyName map[string][]string `json:"ManualMergeRequiredReasonsByPropertyName"`
}

// updateUsages moves every step that uses an older version of t to t's
// current version: one actionsUpdate call for the steps in database
// processes, and one per branch for steps in processes stored in Git
// (Config-as-Code projects), which name the branch as GitRef. When the
// server refuses a Git call (a protected branch, a server without Git
// support), those steps are reported as needing a manual change instead
// of failing the sync.
func updateUsages(c *octopus.Client, t templateRef, dryRun bool, res *SyncResult) error {
	usages, err := newclient.Get[[]usageResource](c.API.HttpSession(), c.Path("/actiontemplates/%s/usage", t.ID))
	if err != nil {
		return fmt.Errorf("list usage of step template %q: %w", t.Name, err)
	}
	var branches []string
	pending := map[string][]UsageUpdate{}
	for _, u := range *usages {
		from, _ := strconv.Atoi(u.Version)
		if from == t.Version {
			continue
		}
		if _, ok := pending[u.Branch]; !ok {
			branches = append(branches, u.Branch)
		}
		pending[u.Branch] = append(pending[u.Branch], UsageUpdate{Template: t.Name, ActionID: u.ActionID, ActionName: u.ActionName, ProjectID: u.ProjectID,
			ProcessID: u.ProcessID, ProcessType: u.ProcessType, GitRef: u.Branch, From: from, To: t.Version})
	}
	sort.Strings(branches)
	for _, branch := range branches {
		if dryRun {
			res.Usages = append(res.Usages, pending[branch]...)
			continue
		}
		results, err := postActionsUpdate(c, t, branch, pending[branch])
		if err != nil && branch == "" {
			return err
		}
		outcome := map[string]actionUpdateResult{}
		for _, r := range results {
			outcome[r.ID] = r
		}
		for _, p := range pending[branch] {
			r, ok := outcome[p.ActionID]
			p.Outcome, p.Reasons = r.Outcome, r.ManualMergeRequiredReasonsByPropertyName
			switch {
			case err != nil:
				p.Outcome = OutcomeManualChange
				p.Reasons = map[string][]string{"GitRef": {fmt.Sprintf("the server did not update the step on branch %s (%v): update it to version %d in the project's Git repository", branch, err, t.Version)}}
			case !ok:
				p.Outcome = "NoAnswer"
			}
			res.Usages = append(res.Usages, p)
		}
	}
	return nil
}

// OutcomeManualChange is the outcome of a usage in a Git-stored process
// that the server would not update: someone has to change the step's
// template version in the repository.
const OutcomeManualChange = "ManualChangeRequired"

// postActionsUpdate asks the server to move the pending steps (all on one
// branch, "" for database processes) to t's current version.
func postActionsUpdate(c *octopus.Client, t templateRef, branch string, pending []UsageUpdate) ([]actionUpdateResult, error) {
	body := actionsUpdate{ID: t.ID, SpaceID: c.SpaceID, Version: int32(t.Version), DefaultPropertyValues: map[string]string{}, Overrides: map[string]string{}}
	index := map[[2]string]int{}
	for _, u := range pending {
		k := [2]string{u.ProcessID, u.ProcessType}
		i, ok := index[k]
		if !ok {
			i = len(body.ActionsToUpdate)
			index[k] = i
			body.ActionsToUpdate = append(body.ActionsToUpdate, actionsToUpdate{ProcessID: u.ProcessID, ProcessType: u.ProcessType, GitRef: branch})
		}
		body.ActionsToUpdate[i].ActionIDs = append(body.ActionsToUpdate[i].ActionIDs, u.ActionID)
	}
	results, err := newclient.Post[[]actionUpdateResult](c.API.HttpSession(), c.Path("/actiontemplates/%s/actionsUpdate", t.ID), body)
	if err != nil {
		where := ""
		if branch != "" {
			where = " on branch " + branch
		}
		return nil, fmt.Errorf("update steps that use step template %q%s: %w", t.Name, where, err)
	}
	return *results, nil
}

// templateDoc returns base (a stored template, or an empty Doc for a new
// one) with the fields bluegreen owns set from the Library-format t.
// Category, $Meta, StepPackageId and GitDependencies are left out: a
// 2020.5 server has no place for them and derives them on newer servers.
// An unset FeedId or PackageId is null, as the Library requires.
func templateDoc(c *octopus.Client, t templates.Template, base octopus.Doc) octopus.Doc {
	d := octopus.Doc{}
	for k, v := range base {
		d[k] = v
	}
	d["Name"], d["Description"], d["ActionType"] = t.Name, t.Description, t.ActionType
	if _, ok := d["SpaceId"]; !ok {
		d["SpaceId"] = c.SpaceID
	}
	if _, ok := d["CommunityActionTemplateId"]; !ok {
		d["CommunityActionTemplateId"] = nil
	}
	props := map[string]any{}
	for k, v := range t.Properties {
		props[k] = v
	}
	d["Properties"] = props
	params := []any{}
	for _, p := range t.Parameters {
		ds := map[string]any{}
		for k, v := range p.DisplaySettings {
			ds[k] = v
		}
		var def any
		if p.DefaultValue != nil {
			def = *p.DefaultValue
		}
		params = append(params, map[string]any{"Id": p.ID, "Name": p.Name, "Label": p.Label, "HelpText": p.HelpText,
			"DefaultValue": def, "DisplaySettings": ds})
	}
	d["Parameters"] = params
	pkgs := []any{}
	for _, p := range t.Packages {
		props := map[string]any{}
		for k, v := range p.Properties {
			props[k] = v
		}
		pkgs = append(pkgs, map[string]any{"Id": p.ID, "Name": p.Name, "PackageId": optString(p.PackageID), "FeedId": optString(p.FeedID),
			"AcquisitionLocation": p.AcquisitionLocation, "Properties": props})
	}
	d["Packages"] = pkgs
	return d
}

func optString(s *string) any {
	if s == nil || *s == "" {
		return nil
	}
	return *s
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

// toComparable reads the owned fields of a template document. A property
// or default value is a string, or an object for a sensitive value (whose
// text the server never returns: it compares as empty).
func toComparable(d octopus.Doc) comparable {
	c := comparable{Name: octopus.DocString(d, "Name"), Description: octopus.DocString(d, "Description"), ActionType: octopus.DocString(d, "ActionType"), Properties: stringMap(d["Properties"])}
	for _, p := range octopus.DocList(d, "Parameters") {
		c.Parameters = append(c.Parameters, comparableParam{Name: octopus.DocString(p, "Name"), Label: octopus.DocString(p, "Label"), HelpText: octopus.DocString(p, "HelpText"),
			Default: octopus.DocString(p, "DefaultValue"), DisplaySettings: stringMap(p["DisplaySettings"])})
	}
	for _, p := range octopus.DocList(d, "Packages") {
		c.Packages = append(c.Packages, comparablePackage{Name: octopus.DocString(p, "Name"), PackageID: octopus.DocString(p, "PackageId"), FeedID: octopus.DocString(p, "FeedId"),
			AcquisitionLocation: octopus.DocString(p, "AcquisitionLocation"), Properties: stringMap(p["Properties"])})
	}
	sort.Slice(c.Packages, func(i, j int) bool { return c.Packages[i].Name < c.Packages[j].Name })
	return c
}

func stringMap(v any) map[string]string {
	out := map[string]string{}
	m, _ := v.(map[string]any)
	for k, e := range m {
		s, _ := e.(string)
		out[k] = s
	}
	return out
}

func sameTemplate(a, b octopus.Doc) bool {
	return reflect.DeepEqual(toComparable(a), toComparable(b))
}
