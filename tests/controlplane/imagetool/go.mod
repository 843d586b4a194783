// Own small module for cmd/imagetool (see its doc comment): go-containerregistry assembles the real
// node's images from local directories, since no registry can be reached here.
module argoops.local/imagetool

go 1.26.0

require github.com/google/go-containerregistry v0.22.1

require (
	github.com/klauspost/compress v1.19.2 // indirect
	github.com/opencontainers/go-digest v1.0.0 // indirect
	github.com/opencontainers/image-spec v1.1.1 // indirect
)
