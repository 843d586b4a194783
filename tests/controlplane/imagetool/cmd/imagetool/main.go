// Command imagetool assembles a container image from local directories with go-containerregistry and
// writes it as a docker-archive tarball that `ctr images import` reads. The real node of the test
// control plane has no registry to pull from, so cplane/images.py stages each image's root filesystem
// and calls this with a JSON spec on stdin:
//
//	{"ref": "localhost/busybox:1.35.0", "output": "/path/image.tar",
//	 "layers": ["/staged/rootfs"], "config": {"Entrypoint": ["/bin/sh"], "User": "0", ...}}
//
// "config" is an OCI image config (github.com/google/go-containerregistry/pkg/v1.Config).
package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

type spec struct {
	Ref    string    `json:"ref"`
	Output string    `json:"output"`
	Layers []string  `json:"layers"`
	Config v1.Config `json:"config"`
}

// layerFromDir tars a directory tree (ownership, modes and symlinks as staged on disk) into one layer.
func layerFromDir(dir string) (v1.Layer, error) {
	var buf bytes.Buffer
	writer := tar.NewWriter(&buf)
	if err := writer.AddFS(os.DirFS(dir)); err != nil {
		return nil, fmt.Errorf("tar %s: %w", dir, err)
	}
	if err := writer.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	})
}

func build(s spec) error {
	ref, err := name.NewTag(s.Ref)
	if err != nil {
		return fmt.Errorf("ref %q: %w", s.Ref, err)
	}
	img := empty.Image
	for _, dir := range s.Layers {
		layer, err := layerFromDir(dir)
		if err != nil {
			return err
		}
		if img, err = mutate.AppendLayers(img, layer); err != nil {
			return err
		}
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cfg = cfg.DeepCopy()
	cfg.Config = s.Config
	cfg.OS, cfg.Architecture = "linux", "amd64" // containerd imports only what matches its platform
	cfg.Created = v1.Time{Time: time.Unix(0, 0).UTC()}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return err
	}
	return tarball.WriteToFile(s.Output, ref, img)
}

func main() {
	var s spec
	if err := json.NewDecoder(os.Stdin).Decode(&s); err != nil {
		fmt.Fprintln(os.Stderr, "imagetool: reading the spec from stdin:", err)
		os.Exit(2)
	}
	if err := build(s); err != nil {
		fmt.Fprintln(os.Stderr, "imagetool:", err)
		os.Exit(1)
	}
}
