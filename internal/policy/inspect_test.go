package policy

import (
	"bytes"
	"testing"
)

func TestInspectMetadataSection(t *testing.T) {
	wasm := watWasm(t, "../../sdk/examples/wat/policy.wat")
	withMeta, err := AddMetadataSection(wasm, []byte(`{"name":"wat-example","version":"1.0.0"}`))
	if err != nil {
		t.Fatal(err)
	}
	info, err := Inspect(withMeta)
	if err != nil {
		t.Fatal(err)
	}
	if info.Shape != ShapeReactor || string(info.Metadata) != `{"name":"wat-example","version":"1.0.0"}` {
		t.Errorf("info = %+v", info)
	}
	if len(info.Imports) != 1 || info.Imports[0] != (Import{Module: "shipgate", Name: "log", Kind: "func"}) {
		t.Errorf("imports = %+v", info.Imports)
	}
	if _, err := AddMetadataSection(wasm, []byte("{")); err == nil {
		t.Error("invalid metadata accepted")
	}
	for _, bad := range [][]byte{nil, []byte("\x00asm"), []byte("\x00asm\x02\x00\x00\x00"), append(bytes.Clone(wasm[:8]), 7, 50, 1)} {
		if _, err := Inspect(bad); err == nil {
			t.Errorf("Inspect(%q) accepted", bad)
		}
	}
}

func TestParseDecision(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{`{"deny":[],"warn":[]}`, true},
		{`{}`, true},
		{` {"deny":[{"message":"m","refs":["a"]}],"extra":1}`, true},
		{`null`, false},
		{`[]`, false},
		{`{"deny":[{"rule":"x"}]}`, false},
		{`{"deny":[]} x`, false},
		{`{"error":"boom"}`, false},
		{"{\"deny\":[{\"message\":\"\xff\"}]}", false},
	} {
		if _, err := ParseDecision([]byte(tt.in)); (err == nil) != tt.ok {
			t.Errorf("ParseDecision(%q) err = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}

func FuzzInspect(f *testing.F) {
	f.Add(watWasm(f, "../../sdk/examples/wat/policy.wat"))
	for _, name := range []string{"badimport", "membomb", "wrongshape"} {
		f.Add(watWasm(f, "testdata/hostile/"+name+".wat"))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = Inspect(b)
	})
}

func FuzzParseDecision(f *testing.F) {
	f.Add([]byte(`{"deny":[{"message":"m","rule":"r","severity":"HIGH","refs":["a"]}],"warn":[]}`))
	f.Add([]byte(`{"error":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDecision(b)
		if err == nil && (d.Deny == nil || d.Warn == nil) {
			t.Fatal("nil lists in an accepted decision")
		}
	})
}
