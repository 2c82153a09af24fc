package secrets

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestTextScannerMatchesFullDetector: a detector of only the rules whose
// keywords occur in a text finds exactly what gitleaks' whole rule set
// finds, on every line and every whole file of the fixtures and on image
// config-like texts.
func TestTextScannerMatchesFullDetector(t *testing.T) {
	ctx := context.Background()
	full, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	ts, err := NewTextScanner()
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"ADD rootfs.tar / # buildkit",
		"/bin/sh -c #(nop)  CMD [\"bash\"]",
		"AWS_SECRET_ACCESS_KEY=" + "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY",
		"RUN echo " + "ghp_" + "0123456789abcdefghijABCDEFGHIJ012345" + " > /root/.token",
		"DB_PASSWORD=" + "hunter2-very-secret-password",
	}
	err = filepath.WalkDir("testdata", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		texts = append(texts, string(data))
		texts = append(texts, strings.Split(string(data), "\n")...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, text := range texts {
		want := full.Detect(ctx, "", text)
		got, err := ts.Detect(ctx, "", text)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) == 0 && len(got) == 0 {
			continue
		}
		found += len(want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("text %.60q:\nsubset %+v\nfull   %+v", text, got, want)
		}
	}
	if found < 10 {
		t.Errorf("only %d findings in the texts: the comparison proves little", found)
	}
	if n := len(ts.built); n == 0 || n >= len(texts) {
		t.Errorf("%d detectors built for %d texts", n, len(texts))
	}
}

func TestRedactText(t *testing.T) {
	ctx := context.Background()
	ts, err := NewTextScanner()
	if err != nil {
		t.Fatal(err)
	}
	token := "ghp_" + "Zq8mT3vX9kL2pR7wY4nB6cD1fH5jG0sA2eU8"
	key := "AKIAZ7VRSQ5QWERTYU7Q"
	for _, text := range []string{
		"RUN echo " + token + " > /root/.token",
		"RUN setup --key " + key + " --token " + token,
		"héllo wörld\nexport TOKEN=" + token + "\nrest",
	} {
		ms, err := ts.Detect(ctx, "", text)
		if err != nil || len(ms) == 0 {
			t.Fatalf("%q: %v %v", text, ms, err)
		}
		got := RedactText(text, ms)
		if strings.Contains(got, token[4:]) || strings.Contains(got, key[4:]) {
			t.Errorf("secret left in %q", got)
		}
		if !strings.Contains(got, "RUN") && !strings.Contains(got, "rest") {
			t.Errorf("text lost: %q", got)
		}
	}
	if got := RedactText("plain", nil); got != "plain" {
		t.Error(got)
	}
}
