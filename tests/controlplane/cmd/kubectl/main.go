// Command kubectl is upstream's kubectl (k8s.io/kubectl/pkg/cmd) for the test control plane: tests and
// `make demo` use it for logs and exec on the real node's pods.
package main

import (
	"k8s.io/component-base/cli"
	"k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"
)

func main() {
	if err := cli.RunNoErrOutput(cmd.NewDefaultKubectlCommand()); err != nil {
		util.CheckErr(err) // prints the error the way kubectl does and exits non-zero
	}
}
