package worker

import (
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// DeploymentOptions opts a worker into Worker Deployment Versioning when deployment is set:
// every workflow it starts is pinned to its build, so a grant sleeping for hours finishes on the
// code it began with while new grants go to the deployment's current version
// (docs/operations.md, "Rolling out a new build"). Empty deployment: unversioned.
func DeploymentOptions(deployment, buildID string) sdkworker.DeploymentOptions {
	if deployment == "" {
		return sdkworker.DeploymentOptions{}
	}
	return sdkworker.DeploymentOptions{
		UseVersioning:             true,
		Version:                   sdkworker.WorkerDeploymentVersion{DeploymentName: deployment, BuildID: buildID},
		DefaultVersioningBehavior: workflow.VersioningBehaviorPinned,
	}
}
