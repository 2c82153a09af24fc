package match

import (
	"context"
	"os"
	"reflect"
	"testing"

	"github.com/shipgate/shipgate/internal/report"
)

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o644) }

// osCase is one OS package matched against the fixture database.
type osCase struct {
	name string
	os   *report.OS
	pkg  report.Package
	want []hit
}

// runOSCases matches each case's package alone and compares the hits; each
// vulnerability must name the installed package and version, and, when
// dataSource is given, carry a data source id it accepts.
func runOSCases(t *testing.T, db Source, cases []osCase, dataSource func(id string) bool) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Match(context.Background(), db, []report.Package{tt.pkg}, tt.os)
			if err != nil {
				t.Fatalf("Match: %v", err)
			}
			if g := hits(got); !reflect.DeepEqual(g, tt.want) {
				t.Errorf("got %+v\nwant %+v", g, tt.want)
			}
			for _, v := range got {
				if v.InstalledVersion != tt.pkg.Version || v.PackageName != tt.pkg.Name {
					t.Errorf("installed version/name: %+v", v)
				}
				if dataSource != nil && (v.DataSource == nil || !dataSource(string(v.DataSource.ID))) {
					t.Errorf("data source: %+v", v.DataSource)
				}
			}
		})
	}
}
