// Command dir2image packs a directory (a root filesystem made by
// debootstrap, a node_modules tree...) into a single-layer docker-archive
// with go-containerregistry, for benchmarks and manual tests: no Docker
// engine needed.
package main

import (
	"archive/tar"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func main() {
	dir := flag.String("dir", "", "directory to pack as the image's root")
	prefix := flag.String("prefix", "", "path inside the image to put the directory at (default the root)")
	out := flag.String("o", "image.tar", "docker-archive to write")
	ref := flag.String("tag", "bench/image:latest", "image reference")
	base := flag.String("base", "", "docker-archive to put the layer on top of (optional)")
	flag.Parse()
	if err := run(*dir, *prefix, *out, *ref, *base); err != nil {
		fmt.Fprintln(os.Stderr, "dir2image:", err)
		os.Exit(2)
	}
}

func run(dir, prefix, out, ref, base string) error {
	if dir == "" {
		return fmt.Errorf("-dir is required")
	}
	tmp, err := os.CreateTemp("", "dir2image-*.tar")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	tw := tar.NewWriter(tmp)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		name := filepath.ToSlash(filepath.Join(prefix, rel))
		info, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		if !info.Mode().IsRegular() && !info.IsDir() && info.Mode()&fs.ModeSymlink == 0 {
			return nil // devices, sockets
		}
		h, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		h.Name = name
		if info.IsDir() {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	tmp.Close()
	layer, err := tarball.LayerFromFile(tmp.Name())
	if err != nil {
		return err
	}
	var img v1.Image = empty.Image
	if base != "" {
		if img, err = tarball.ImageFromPath(base, nil); err != nil {
			return err
		}
	}
	img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{CreatedBy: "dir2image " + dir}})
	if err != nil {
		return err
	}
	tag, err := name.NewTag(ref)
	if err != nil {
		return err
	}
	return tarball.WriteToFile(out, tag, img)
}
