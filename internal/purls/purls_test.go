package purls

import (
	"testing"

	"github.com/shipgate/shipgate/internal/report"
)

func TestBuild(t *testing.T) {
	tests := []struct {
		eco, name, version string
		qs                 []Qualifier
		want               string
	}{
		{report.EcosystemNpm, "@babel/core", "7.24.0", nil, "pkg:npm/%40babel/core@7.24.0"},
		{report.EcosystemNpm, "lodash", "4.17.21", nil, "pkg:npm/lodash@4.17.21"},
		{report.EcosystemPyPI, "Django_Rest.framework", "3.0", nil, "pkg:pypi/django-rest-framework@3.0"},
		{report.EcosystemMaven, "org.apache.logging.log4j:log4j-core", "2.14.1", nil, "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"},
		{report.EcosystemGo, "github.com/pkg/errors", "v0.9.1", nil, "pkg:golang/github.com/pkg/errors@v0.9.1"},
		{report.EcosystemComposer, "Laravel/Framework", "v11.0.0", nil, "pkg:composer/laravel/framework@v11.0.0"},
		{report.EcosystemCargo, "serde", "1.0.0", nil, "pkg:cargo/serde@1.0.0"},
		{report.EcosystemDeb, "libc6", "2.36-9+deb12u4", []Qualifier{{Key: "namespace", Value: "debian"}, {Key: "arch", Value: "amd64"}, {Key: "distro", Value: "debian-12"}}, "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12"},
		{report.EcosystemNpm, "", "1", nil, ""},
	}
	for _, tt := range tests {
		if got := Build(tt.eco, tt.name, tt.version, tt.qs...); got != tt.want {
			t.Errorf("Build(%q, %q, %q) = %q, want %q", tt.eco, tt.name, tt.version, got, tt.want)
		}
	}
}
