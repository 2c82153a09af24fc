// Command mkimage builds Shipgate's CI job image (see internal/imagebuild)
// without a Docker engine: `make image` runs it.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/shipgate/shipgate/internal/imagebuild"
)

func main() {
	var o imagebuild.Options
	var ref, docker, oci string
	flag.StringVar(&o.Binary, "binary", "bin/shipgate-linux-amd64", "static shipgate binary")
	flag.StringVar(&o.Busybox, "busybox", "/bin/busybox", "static busybox binary (Debian: busybox-static)")
	flag.StringVar(&o.Version, "version", "dev", "version label")
	flag.StringVar(&o.Revision, "revision", "", "git revision label")
	flag.StringVar(&o.Arch, "arch", "amd64", "architecture of the binaries")
	flag.StringVar(&ref, "tag", "shipgate:dev", "image reference written into the archives")
	flag.StringVar(&docker, "docker-archive", "dist/shipgate-image.docker.tar", "docker-archive output")
	flag.StringVar(&oci, "oci-layout", "dist/shipgate-image.oci", "OCI image layout output directory")
	flag.Parse()

	// Reproducible builds: SOURCE_DATE_EPOCH, else the Unix epoch.
	o.Created = time.Unix(0, 0).UTC()
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			o.Created = time.Unix(n, 0).UTC()
		}
	}
	img, err := imagebuild.Build(o)
	if err == nil {
		err = os.MkdirAll(filepath.Dir(docker), 0o755)
	}
	if err == nil {
		err = imagebuild.WriteDockerArchive(docker, ref, img)
	}
	if err == nil {
		os.RemoveAll(oci)
		err = imagebuild.WriteOCILayout(oci, ref, img)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(2)
	}
	d, _ := img.Digest()
	fmt.Printf("mkimage: %s %s\n  docker-archive: %s\n  oci-layout:     %s\n", ref, d, docker, oci)
}
