package match

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/aquasecurity/trivy-db/pkg/types"
)

func TestGoConstraint(t *testing.T) {
	tests := []struct {
		constraint, version string
		want                bool
	}{
		{"<0.17.0", "v0.16.0", true},
		{"<0.17.0", "0.17.0", false},
		{">= 1.0.0, < 1.2.0", "v1.0.0", true},
		{">=1.0.0 <1.2.0", "v1.2.0", false},
		{">=1.0.0, <1.2.0 || >=2.0.0, <2.1.0", "v2.0.9", true},
		{">=1.0.0, <1.2.0 || >=2.0.0, <2.1.0", "v1.5.0", false},
		{"<1.2.4", "v1.2.4-0.20240101000000-abcdefabcdef", true},
		{"<1.2.4", "v1.2.5-0.20240101000000-abcdefabcdef", false},
		{"<20.10.24", "v20.10.23+incompatible", true},
		{"<20.10.24", "v20.10.24+incompatible", false},
		{"=1.0.0", "v1.0.0", true},
		{"1.0.0", "v1.0.0", true},
		{"!=1.0.0", "v1.0.0", false},
		{">1.0.0", "v1.0.1", true},
		{"<=1.0.0", "v1.0.0", true},
		{"v1.0.0", "1.0.0", true},
	}
	for _, tt := range tests {
		c, err := parseGoConstraint(tt.constraint)
		if err != nil {
			t.Errorf("%q: %v", tt.constraint, err)
			continue
		}
		v, err := parseGoVersion(tt.version)
		if err != nil {
			t.Errorf("%q: %v", tt.version, err)
			continue
		}
		if got := c.check(v); got != tt.want {
			t.Errorf("%q in %q = %v, want %v", tt.version, tt.constraint, got, tt.want)
		}
	}
	for _, bad := range []string{"", "||", ">=", ">= <1.0", "=>1.0", "<1.0 ||", "~1.0", "<banana"} {
		if _, err := parseGoConstraint(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	for _, bad := range []string{"", "banana", "(devel)", "v1.2.3.4"} {
		if _, err := parseGoVersion(bad); err == nil {
			t.Errorf("version %q parsed", bad)
		}
	}
}

func TestFixedVersion(t *testing.T) {
	tests := []struct {
		s         scheme
		installed string
		adv       types.Advisory
		want      string
	}{
		{npmScheme, "1.0.0", types.Advisory{PatchedVersions: []string{"2.0.0", "1.2.0"}}, "1.2.0"},
		{npmScheme, "1.5.0", types.Advisory{PatchedVersions: []string{"2.0.0", "1.2.0"}}, "2.0.0"},
		{npmScheme, "1.0.0", types.Advisory{VulnerableVersions: []string{">=0.5.0, <1.1.0", "<=0.1.0"}}, "1.1.0"},
		{npmScheme, "1.0.0", types.Advisory{VulnerableVersions: []string{"<=1.0.0"}}, ""},
		{gemScheme, "5.2.3", types.Advisory{PatchedVersions: []string{"~> 5.2.4, >= 5.2.4.3", ">= 6.0.3.1"}}, "5.2.4.3"},
		{pep440Scheme, "1.0rc1", types.Advisory{PatchedVersions: []string{">=1.0"}}, "1.0"},
		{goScheme, "v0.0.0-20210101000000-abcdefabcdef", types.Advisory{PatchedVersions: []string{"0.17.0"}}, "0.17.0"},
		{mavenScheme, "2.0-beta9", types.Advisory{PatchedVersions: []string{"2.15.0", "2.3.1"}}, "2.3.1"},
		{npmScheme, "1.0.0", types.Advisory{PatchedVersions: []string{"not-a-version"}}, "not-a-version"},
	}
	for _, tt := range tests {
		inst, err := tt.s.safeParse(tt.installed)
		if err != nil {
			t.Fatal(err)
		}
		if got := fixedVersion(noCache{}, tt.s, inst, &tt.adv); got != tt.want {
			t.Errorf("%s %s %+v: fixed %q, want %q", tt.s.name, tt.installed, tt.adv, got, tt.want)
		}
	}
}

func TestIsVulnerableEmptyRange(t *testing.T) {
	v, _ := npmScheme.safeParse("1.0.0")
	if ok, err := isVulnerable(noCache{}, npmScheme, "1.0.0", v, &types.Advisory{VulnerableVersions: []string{""}}); !ok || err != nil {
		t.Errorf("empty vulnerable range: %v %v", ok, err)
	}
	if ok, err := isVulnerable(noCache{}, npmScheme, "1.0.0", v, &types.Advisory{}); ok || err != nil {
		t.Errorf("no ranges: %v %v", ok, err)
	}
	if _, err := isVulnerable(noCache{}, npmScheme, "1.0.0", v, &types.Advisory{VulnerableVersions: []string{">>>1"}}); err == nil {
		t.Error("bad range accepted")
	}
}

// allSchemes are the schemes the fuzz target exercises.
var allSchemes = []scheme{npmScheme, pep440Scheme, gemScheme, mavenScheme, goScheme, genericScheme, debScheme, apkScheme, rpmScheme}

// FuzzVersionRange feeds arbitrary versions and range expressions to every
// ecosystem's parser and to the matching and fixed-version logic: nothing
// may panic, and a Go range ">=v" must contain v.
func FuzzVersionRange(f *testing.F) {
	seeds := [][2]string{
		{"4.17.15", "<4.17.21"},
		{"1.0.0-beta.1", ">=1.0.0, <1.2.0 || >=2.0.0, <2.1.0"},
		{"1.0rc1", "<1.0"},
		{"5.2.4.2", "~> 5.2.4, >= 5.2.4.3"},
		{"2.0-beta9", "[2.0,2.15.0)"},
		{"v0.0.0-20210226172049-e18ecbb05110", ">= 0.0.0, < 0.17.0"},
		{"v20.10.23+incompatible", "<20.10.24"},
		{"1:4.13+dfsg1-1", "1:4.13+dfsg1-1+deb12u1"},
		{"3.3.1-r0", "3.3.1-r1"},
		{"32:9.16.23-0.9.el9", "32:9.16.23-0.9.el9.1"},
		{"", ""},
		{"\xff\xfe", "||||,,,"},
	}
	for _, s := range seeds {
		for i := range allSchemes {
			f.Add(uint8(i), s[0], s[1])
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, ver, rng string) {
		s := allSchemes[int(which)%len(allSchemes)]
		inst, err := s.safeParse(ver)
		if err != nil {
			return
		}
		if s.constraint == nil {
			if fixed, err := s.safeParse(rng); err == nil {
				_ = inst.cmp(fixed)
			}
			return
		}
		adv := types.Advisory{VulnerableVersions: []string{rng}, PatchedVersions: strings.Split(rng, "||")}
		_, _ = isVulnerable(noCache{}, s, ver, inst, &adv)
		_ = fixedVersion(noCache{}, s, inst, &adv)
		_ = fixedVersion(noCache{}, s, inst, &types.Advisory{VulnerableVersions: []string{rng}})
		if s.name == "go" {
			c, err := parseGoConstraint(">=" + ver)
			if err == nil && !c.check(inst) {
				t.Errorf("%q not in >=%q", ver, ver)
			}
		}
	})
}

// FuzzDecodeAdvisory decodes arbitrary database values.
func FuzzDecodeAdvisory(f *testing.F) {
	f.Add([]byte(`{"FixedVersion":"1.0","Status":5,"Severity":1}`))
	f.Add([]byte(`{"Entries":[{"FixedVersion":"1","Arches":["x86_64"]}]}`))
	f.Add([]byte(`{"Entries":"broken"}`))
	f.Add([]byte(`{"VulnerableVersions":["<1"],"Severity":99}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		advs, err := decodeAdvisory(b)
		if err != nil {
			return
		}
		for _, a := range advs {
			_ = severityName(a.Severity)
			_ = a.Status.String()
		}
	})
}

// TestDecodeAdvisoryRoundTrip checks decodeAdvisory against trivy-db's own
// encoding of types.Advisory and types.Advisories.
func TestDecodeAdvisoryRoundTrip(t *testing.T) {
	a := types.Advisory{
		VendorIDs: []string{"DSA-1"}, Arches: []string{"x86_64"}, Status: types.StatusWillNotFix, Severity: types.SeverityHigh,
		FixedVersion: "1:2.3-4", VulnerableVersions: []string{"<1"}, PatchedVersions: []string{"1"}, UnaffectedVersions: []string{"=0.5"},
	}
	b, err := json.Marshal(&a)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeAdvisory(b)
	if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], a) {
		t.Errorf("advisory: %+v %v\nwant %+v", got, err, a)
	}
	e2 := a
	e2.Arches, e2.FixedVersion = []string{"aarch64"}, "1:2.3-5"
	b, err = json.Marshal(types.Advisories{FixedVersion: "1:2.3-4", Entries: []types.Advisory{a, e2}})
	if err != nil {
		t.Fatal(err)
	}
	got, err = decodeAdvisory(b)
	if err != nil || !reflect.DeepEqual(got, []types.Advisory{a, e2}) {
		t.Errorf("entries: %+v %v", got, err)
	}
}
