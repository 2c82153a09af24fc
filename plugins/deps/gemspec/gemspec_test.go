package gemspec

import (
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/plugintest"
)

func TestAnalyze(t *testing.T) {
	tests := []struct {
		file     string
		name     string
		version  string
		line     int
		licenses []string
	}{
		{"usr/share/rubygems-integration/all/specifications/rake-13.0.6.gemspec", "rake", "13.0.6", 6, []string{"MIT"}},
		{"usr/share/rubygems-integration/all/specifications/test-unit-3.5.7.gemspec", "test-unit", "3.5.7", 6, []string{"Ruby", "BSDL", "PSFL"}},
		{"usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec", "json", "2.6.1", 7, []string{"Ruby"}},
		{"usr/lib/ruby/gems/3.1.0/specifications/default/digest-3.1.0.gemspec", "digest", "3.1.0", 7, []string{"Ruby", "BSD-2-Clause"}},
		{"usr/lib/ruby/gems/3.1.0/specifications/minitest-5.15.0.gemspec", "minitest", "5.15.0", 6, []string{"MIT"}},
		{"usr/local/bundle/specifications/rack-2.2.22.gemspec", "rack", "2.2.22", 6, nil},
		{"usr/local/bundle/specifications/rexml-3.3.9.gemspec", "rexml", "3.3.9", 6, nil},
		{"var/lib/gems/2.7.0/specifications/matrix-0.4.2.gemspec", "matrix", "0.4.2", 6, []string{"Ruby", "BSD-2-Clause"}},
		{"var/lib/gems/2.7.0/specifications/daemons-1.1.9.gemspec", "daemons", "1.1.9", 5, []string{"MIT"}},
		{"var/lib/gems/2.7.0/specifications/hello-world-0.0.1.gemspec", "hello-world", "0.0.1", 3, []string{"BSD-3-Clause"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := plugintest.Analyze(t, New(), "testdata", tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Packages) != 1 || len(res.Errors) != 0 {
				t.Fatalf("got %d packages and errors %v", len(res.Packages), res.Errors)
			}
			p := res.Packages[0]
			wantPurl := "pkg:gem/" + tt.name + "@" + tt.version
			if p.Name != tt.name || p.Version != tt.version || p.Purl != wantPurl || p.Ecosystem != report.EcosystemGem {
				t.Errorf("got %s %s %s %s", p.Name, p.Version, p.Purl, p.Ecosystem)
			}
			if p.Type != report.TypeLibrary || p.Relationship != report.RelationshipUnknown || p.Dev || p.Analyzer != Name {
				t.Errorf("type %s relationship %s dev %v analyzer %s", p.Type, p.Relationship, p.Dev, p.Analyzer)
			}
			if p.BOMRef != plugins.Ref(tt.file, wantPurl) {
				t.Errorf("bom-ref %s", p.BOMRef)
			}
			if len(p.Locations) != 1 || p.Locations[0].Path != tt.file || p.Locations[0].Line != tt.line {
				t.Errorf("locations %v, want line %d", p.Locations, tt.line)
			}
			if !slices.Equal(p.Licenses, tt.licenses) {
				t.Errorf("licenses %q, want %q", p.Licenses, tt.licenses)
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	tests := []struct {
		name, data string
		line       int
	}{
		{"truncated file", "", 6},
		{"empty", "", 0},
		{"binary junk", "\x00\xff\xfe\x7fELF\n\n\x01", 0},
		{"version constant", "Gem::Specification.new do |s|\n  s.name = \"foo\"\n  s.version = Foo::VERSION\nend\n", 3},
		{"interpolated name", "Gem::Specification.new do |s|\n  s.name = \"foo-#{x}\"\n  s.version = \"1.0\"\nend\n", 2},
		{"no name", "Gem::Specification.new do |s|\n  s.version = \"1.0\"\nend\n", 0},
		{"array as version", "Gem::Specification.new do |s|\n  s.name = 'a'\n  s.version = ['1.0']\nend\n", 3},
		{"space in version", "Gem::Specification.new do |s|\n  s.name = 'a'\n  s.version = '1 0'\nend\n", 3},
		{"trailing junk", "Gem::Specification.new do |s|\n  s.name = 'a' + b\n  s.version = '1'\nend\n", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var res *plugins.Result
			var err error
			const file = "specifications/x.gemspec"
			if tt.name == "truncated file" {
				res, err = plugintest.Analyze(t, New(), "testdata", "usr/local/bundle/specifications/net-ftp-0.1.4.gemspec")
			} else {
				res, err = plugintest.AnalyzeBytes(New(), file, []byte(tt.data))
			}
			if err == nil {
				t.Fatalf("no error; got %+v", res)
			}
			if got := plugins.ErrorLine(err); got != tt.line {
				t.Errorf("error %q at line %d, want %d", err, got, tt.line)
			}
			if !strings.Contains(err.Error(), ".gemspec") {
				t.Errorf("error %q names no file", err)
			}
		})
	}
}

// TestPartial checks that an unreadable licenses value keeps the gem and
// records the problem.
func TestPartial(t *testing.T) {
	data := "\xef\xbb\xbfGem::Specification.new do |s|\r\n  s.name = \"a\".freeze\r\n  s.version = \"1.0\"\r\n  s.licenses = [\"MIT\".freeze, LICENSE]\r\nend\r\n"
	res, err := plugintest.AnalyzeBytes(New(), "specifications/a-1.0.gemspec", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packages) != 1 || res.Packages[0].Purl != "pkg:gem/a@1.0" {
		t.Fatalf("packages %+v", res.Packages)
	}
	if len(res.Errors) != 1 || res.Errors[0].Line != 4 {
		t.Errorf("errors %v", res.Errors)
	}
}

func TestParseValue(t *testing.T) {
	tests := []struct {
		expr string
		list bool
		want []string
		err  bool
	}{
		{`"rake".freeze`, false, []string{"rake"}, false},
		{`'rake'`, false, []string{"rake"}, false},
		{`"13.0.6"`, false, []string{"13.0.6"}, false},
		{`%q{daemons}`, false, []string{"daemons"}, false},
		{`%Q(a(b)c)`, false, []string{"a(b)c"}, false},
		{`%q<x>.freeze`, false, []string{"x"}, false},
		{`Gem::Version.new("1.2.3")`, false, []string{"1.2.3"}, false},
		{`Gem::Version.new( '1.2.3' ).freeze`, false, []string{"1.2.3"}, false},
		{`"1.0" if s.respond_to? :version`, false, []string{"1.0"}, false},
		{`"1.0" # comment`, false, []string{"1.0"}, false},
		{`["MIT".freeze, "Ruby".freeze]`, true, []string{"MIT", "Ruby"}, false},
		{`[ 'MIT' , 'Apache-2.0' ]`, true, []string{"MIT", "Apache-2.0"}, false},
		{`[]`, true, nil, false},
		{`%w[MIT Ruby]`, true, []string{"MIT", "Ruby"}, false},
		{`%w(MIT)`, true, []string{"MIT"}, false},
		{`"MIT"`, true, []string{"MIT"}, false},
		{`"a\"b"`, false, []string{`a"b`}, false},
		{`'a\'b\n'`, false, []string{`a'b\n`}, false},
		{`Foo::VERSION`, false, nil, true},
		{`"unterminated`, false, nil, true},
		{`["MIT"`, true, nil, true},
		{`%w[MIT`, true, nil, true},
		{`%qx`, false, nil, true},
		{`[1]`, true, nil, true},
		{`"a" + "b"`, false, nil, true},
		{``, false, nil, true},
	}
	for _, tt := range tests {
		got, err := parseValue(tt.expr, tt.list)
		if (err != nil) != tt.err || (!tt.err && !slices.Equal(got, tt.want)) {
			t.Errorf("parseValue(%q) = %q, %v; want %q, error %v", tt.expr, got, err, tt.want, tt.err)
		}
	}
}

func TestFileRequired(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"usr/local/bundle/specifications/rake-13.0.6.gemspec", true},
		{"usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec", true},
		{"var/lib/gems/3.1.0/specifications/rack-2.2.22.gemspec", true},
		{"specifications/a-1.gemspec", true},
		{"app/vendor/bundle/ruby/3.2.0/specifications/nokogiri-1.16.0-x86_64-linux.gemspec", true},
		{"foo.gemspec", false},
		{"src/mygem/mygem.gemspec", false},
		{"usr/local/bundle/gems/rake-13.0.6/rake.gemspec", false},
		{"specifications.gemspec", false},
		{"usr/local/bundle/specifications/rake-13.0.6.gemspec.bak", false},
		{"usr/local/bundle/specifications", false},
	}
	for _, tt := range tests {
		if got := New().FileRequired(tt.path, nil); got != tt.want {
			t.Errorf("FileRequired(%s) = %v", tt.path, got)
		}
	}
}

// TestAllFixtures runs the analyzer over every claimed file in testdata,
// as the engine would.
func TestAllFixtures(t *testing.T) {
	var claimed int
	err := fs.WalkDir(os.DirFS("testdata"), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, _ := d.Info()
		if !New().FileRequired(p, info) {
			return nil
		}
		claimed++
		res, err := plugintest.Analyze(t, New(), "testdata", p)
		if res == nil && err == nil {
			t.Errorf("%s: neither result nor error", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if claimed != 11 {
		t.Errorf("claimed %d files, want 11", claimed)
	}
}

func FuzzAnalyze(f *testing.F) {
	plugintest.SeedCorpus(f, "testdata")
	plugintest.Fuzz(f, New(), "specifications/x.gemspec")
}
