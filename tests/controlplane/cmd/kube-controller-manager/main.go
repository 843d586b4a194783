// Command kube-controller-manager runs upstream's kube-controller-manager (k8s.io/kubernetes/cmd/kube-controller-manager/app) as a local process
// of the test control plane; see tests/controlplane/README.md.
package main

import (
	"os"
	_ "time/tzdata" // CronJob time zones work without the host tz database

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // JSON log format, as upstream registers it
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics, as upstream
	_ "k8s.io/component-base/metrics/prometheus/version"  // version metric, as upstream
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	os.Exit(cli.Run(app.NewControllerManagerCommand()))
}
