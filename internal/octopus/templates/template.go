package templates

// Template is one step template in the format of the Octopus Library
// (github.com/OctopusDeploy/Library, step-templates/*.json) and of the
// server's export. Field order follows the Library's files so that a
// generated file diffs cleanly against them.
type Template struct {
	ID                        string            `json:"Id"`
	Name                      string            `json:"Name"`
	Description               string            `json:"Description"`
	ActionType                string            `json:"ActionType"`
	Version                   int               `json:"Version"`
	CommunityActionTemplateID *string           `json:"CommunityActionTemplateId"`
	Packages                  []PackageRef      `json:"Packages"`
	GitDependencies           []any             `json:"GitDependencies"`
	Properties                map[string]string `json:"Properties"`
	Parameters                []Parameter       `json:"Parameters"`
	StepPackageID             string            `json:"StepPackageId"`
	Meta                      Meta              `json:"$Meta"`
	LastModifiedBy            string            `json:"LastModifiedBy"`
	Category                  string            `json:"Category"`
}

// Parameter is a template parameter: a variable the step's user fills in.
type Parameter struct {
	ID              string            `json:"Id"`
	Name            string            `json:"Name"`
	Label           string            `json:"Label"`
	HelpText        string            `json:"HelpText"`
	DefaultValue    *string           `json:"DefaultValue"`
	DisplaySettings map[string]string `json:"DisplaySettings"`
}

// PackageRef is a package reference of a template. The Library requires
// FeedId to be absent, null or a #{variable}, so bluegreen uses the
// parameter-driven pattern: PackageId and FeedId are null and a parameter
// of control type Package names the package when the step is used.
type PackageRef struct {
	ID                  string            `json:"Id"`
	Name                string            `json:"Name"`
	PackageID           *string           `json:"PackageId"`
	FeedID              *string           `json:"FeedId"`
	AcquisitionLocation string            `json:"AcquisitionLocation"`
	Properties          map[string]string `json:"Properties"`
}

// Meta is the "$Meta" block of an exported template.
type Meta struct {
	ExportedAt     string `json:"ExportedAt"`
	OctopusVersion string `json:"OctopusVersion"`
	Type           string `json:"Type"`
}

// Action types and control types used by the generated templates.
const (
	ActionScript    = "Octopus.Script"
	ActionAwsScript = "Octopus.AwsRunScript"

	ControlSingleLine = "SingleLineText"
	ControlMultiLine  = "MultiLineText"
	ControlCheckbox   = "Checkbox"
	ControlSelect     = "Select"
	ControlSensitive  = "Sensitive"
	ControlPackage    = "Package"
	ControlAwsAccount = "AmazonWebServicesAccount"

	controlTypeKey   = "Octopus.ControlType"
	selectOptionsKey = "Octopus.SelectOptions"
)
