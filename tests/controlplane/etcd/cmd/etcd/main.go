// Command etcd runs upstream's etcd server (go.etcd.io/etcd/server/v3/etcdmain) as a local process
// of the test control plane; see tests/controlplane/README.md. A module of its own so etcd's
// dependency versions never move the Kubernetes build's.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
