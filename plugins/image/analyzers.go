package image

import (
	"github.com/shipgate/shipgate/internal/purls"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/image/apk"
	"github.com/shipgate/shipgate/plugins/image/dpkg"
	"github.com/shipgate/shipgate/plugins/image/osrelease"
	"github.com/shipgate/shipgate/plugins/image/rpm"
)

// Analyzers returns the analyzers only the image stage runs: the operating
// system and its package databases. Language packages inside images are
// found by the deps stage's analyzers, which the caller adds.
func Analyzers() []plugins.Analyzer {
	return []plugins.Analyzer{
		osrelease.New(),
		dpkg.New(),
		apk.New(),
		rpm.New(),
	}
}

// qualifyOSPackages gives OS packages the distribution in their purl
// (pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12) once the OS is
// known, and renames their bom-refs (and every reference to them) to match.
func qualifyOSPackages(pkgs []report.Package, osInfo *report.OS) {
	if osInfo == nil {
		return
	}
	family := osInfo.Family
	distro := family
	if osInfo.Version != "" {
		distro += "-" + osInfo.Version
	}
	renamed := map[string]string{}
	for i := range pkgs {
		p := &pkgs[i]
		switch p.Ecosystem {
		case report.EcosystemDeb, report.EcosystemApk, report.EcosystemRpm:
		default:
			continue
		}
		ns := family
		if p.Ecosystem == report.EcosystemDeb && family != "ubuntu" && family != "debian" {
			ns = "debian"
		}
		upstream := ""
		if p.SrcName != "" && p.SrcName != p.Name {
			upstream = p.SrcName
		}
		purl := purls.Build(p.Ecosystem, p.Name, p.Version,
			purls.Qualifier{Key: "namespace", Value: ns},
			purls.Qualifier{Key: "arch", Value: p.Arch},
			purls.Qualifier{Key: "distro", Value: distro},
			purls.Qualifier{Key: "upstream", Value: upstream})
		path := ""
		if len(p.Locations) > 0 {
			path = p.Locations[0].Path
		}
		ref := plugins.Ref(path, purl)
		renamed[p.BOMRef] = ref
		p.Purl, p.BOMRef = purl, ref
	}
	for i := range pkgs {
		for j, d := range pkgs[i].DependsOn {
			if r, ok := renamed[d]; ok {
				pkgs[i].DependsOn[j] = r
			}
		}
	}
}
