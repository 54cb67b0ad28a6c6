package aws

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "aws.asg.set-image",
		Title:   "Set Auto Scaling group image",
		Summary: "Makes an Auto Scaling group launch a pre-baked AMI through a new launch template version.",
		Doc: "Creates a launch template version that copies the group's current one with only the image " +
			"replaced, and points the group at that version by number. Instances already running keep " +
			"their image; scale the group (or refresh it) to launch the new one. When the group already " +
			"launches the AMI nothing changes. Undo points the group back at the version it used before; " +
			"a group that followed `$Latest` or `$Default` is pinned to the number those resolved to, " +
			"because `$Latest` now names the new version. Created versions are kept as history.",
		Preflight: awsGroup,
		Rules: []steps.Rule{
			steps.ExactlyOneOf("ami", "version"),
			steps.Length("group", 1, 255),
			steps.Matches("ami", `^(ami-[0-9a-z]+|resolve:ssm:\S+)$`, "an image id (ami-...) or resolve:ssm:PARAMETER"),
			steps.Matches("version", `^([1-9][0-9]*|\$Latest|\$Default)$`, "a version number, $Latest or $Default"),
			steps.Length("description", 0, 255),
		},
		Params: []steps.Param{
			{Name: "group", Type: steps.String, Required: true, Doc: "Name of the Auto Scaling group (it must use a launch template).", Examples: []any{"web-green"}},
			{Name: "ami", Type: steps.String, Doc: "The image to launch. Exactly one of `ami` and `version` is required.", Examples: []any{"ami-0abcdef1234567890"}},
			{Name: "version", Type: steps.String, Doc: "An existing launch template version to point the group at instead (used by undo)."},
			{Name: "description", Type: steps.String, Default: "bluegreen", Doc: "Description of the new launch template version."},
		},
		Outputs: []steps.Output{
			{Name: "launch_template", Type: steps.String, Doc: "Id of the group's launch template."},
			{Name: "version", Type: steps.String, Doc: "The version number the group launches after the step."},
			{Name: "previous_version", Type: steps.String, Doc: "The version the group held before the step."},
			{Name: "image", Type: steps.String, Doc: "The image id of the version in use after the step."},
			{Name: "changed", Type: steps.Bool, Doc: "Whether the group was changed."},
		},
		Mutates:     true,
		Credentials: steps.AWSCredentials,
		New:         func() steps.Step { return &asgSetImage{} },
	})
}

type asgSetImage struct {
	asg asgAPI
	ec2 ec2API
}

func (s *asgSetImage) Run(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	p := call.Params
	name, ami, version := p.String("group"), p.String("ami"), p.String("version")
	if (ami == "") == (version == "") {
		return nil, errors.New("exactly one of the params \"ami\" and \"version\" is required")
	}
	asg, err := asgClient(s.asg)
	if err != nil {
		return nil, err
	}
	ec, err := ec2Client(s.ec2)
	if err != nil {
		return nil, err
	}
	g, err := describeGroup(ctx, asg, name)
	if err != nil {
		return nil, err
	}
	if g.LaunchTemplate == nil || g.LaunchTemplate.LaunchTemplateId == nil && g.LaunchTemplate.LaunchTemplateName == nil {
		return nil, fmt.Errorf("group %q does not launch from a launch template (launch configurations and mixed instances policies are not supported)", name)
	}
	lt := g.LaunchTemplate
	held := awssdk.ToString(lt.Version)
	if held == "" {
		held = "$Default"
	}
	current, err := templateVersion(ctx, ec, lt, held)
	if err != nil {
		return nil, err
	}
	ltID := awssdk.ToString(current.LaunchTemplateId)
	curNum := strconv.FormatInt(awssdk.ToInt64(current.VersionNumber), 10)
	curImage := ""
	if current.LaunchTemplateData != nil {
		curImage = awssdk.ToString(current.LaunchTemplateData.ImageId)
	}
	out := steps.Outputs{"launch_template": ltID, "version": curNum, "previous_version": held, "image": curImage, "changed": false}

	target := version
	var targetImage string
	if ami != "" {
		if curImage == ami {
			call.Log.Info().Str("group", name).Str("ami", ami).Msg("group already launches this image")
			return out, nil
		}
	} else {
		v, err := templateVersion(ctx, ec, &asgtypes.LaunchTemplateSpecification{LaunchTemplateId: awssdk.String(ltID)}, version)
		if err != nil {
			return nil, err
		}
		if v.LaunchTemplateData != nil {
			targetImage = awssdk.ToString(v.LaunchTemplateData.ImageId)
		}
		if version == held {
			out["image"] = targetImage
			return out, nil
		}
	}
	// The undo pins the number $Latest or $Default resolved to: after
	// this step creates a version, "$Latest" would name the new image.
	undoVersion := held
	if held == "$Latest" || held == "$Default" {
		undoVersion = curNum
	}
	if err := call.BeforeChange(steps.Undo{
		Kind:   "aws.asg.set-image",
		Params: map[string]any{"group": name, "version": undoVersion},
		Note:   fmt.Sprintf("point group %s back at launch template %s version %s (image %s)", name, ltID, undoVersion, curImage),
	}); err != nil {
		return nil, err
	}
	if ami != "" {
		cv, err := ec.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{
			LaunchTemplateId:   awssdk.String(ltID),
			SourceVersion:      awssdk.String(curNum),
			VersionDescription: awssdk.String(p.String("description")),
			LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: awssdk.String(ami)},
		})
		if err != nil {
			return nil, failed("ec2:CreateLaunchTemplateVersion", fmt.Sprintf("launch template %s", ltID), err)
		}
		if cv.LaunchTemplateVersion == nil {
			return nil, fmt.Errorf("ec2:CreateLaunchTemplateVersion on launch template %s returned no version", ltID)
		}
		target = strconv.FormatInt(awssdk.ToInt64(cv.LaunchTemplateVersion.VersionNumber), 10)
		targetImage = ami
	}
	_, err = asg.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{
		AutoScalingGroupName: awssdk.String(name),
		LaunchTemplate:       &asgtypes.LaunchTemplateSpecification{LaunchTemplateId: awssdk.String(ltID), Version: awssdk.String(target)},
	})
	if err != nil {
		return nil, failed("autoscaling:UpdateAutoScalingGroup", fmt.Sprintf("group %q", name), err)
	}
	call.Log.Info().Str("group", name).Str("launch_template", ltID).Str("version", target).Str("image", targetImage).Msg("group launch template version set")
	out["version"], out["image"], out["changed"] = target, targetImage, true
	return out, nil
}

// templateVersion resolves one version (a number, $Latest or $Default) of
// the launch template a group refers to.
func templateVersion(ctx context.Context, api ec2API, lt *asgtypes.LaunchTemplateSpecification, version string) (*ec2types.LaunchTemplateVersion, error) {
	in := &ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{version}}
	ref := awssdk.ToString(lt.LaunchTemplateId)
	if ref != "" {
		in.LaunchTemplateId = lt.LaunchTemplateId
	} else {
		ref = awssdk.ToString(lt.LaunchTemplateName)
		in.LaunchTemplateName = lt.LaunchTemplateName
	}
	out, err := api.DescribeLaunchTemplateVersions(ctx, in)
	if err != nil {
		return nil, failed("ec2:DescribeLaunchTemplateVersions", fmt.Sprintf("launch template %s version %s", ref, version), err)
	}
	if len(out.LaunchTemplateVersions) == 0 {
		return nil, fmt.Errorf("ec2:DescribeLaunchTemplateVersions on launch template %s: no version %s", ref, version)
	}
	return &out.LaunchTemplateVersions[0], nil
}
