// Package app has planted gosec issues.
package app

import (
	"crypto/md5"
	"crypto/tls"
	"database/sql"
	"fmt"
	"math/rand"
	"net/http"
	"os"
	"os/exec"
)

// Query builds SQL by formatting.
func Query(db *sql.DB, name string) {
	q := fmt.Sprintf("SELECT * FROM users WHERE name = '%s'", name)
	db.Query(q)
}

// Concat builds SQL by concatenation.
func Concat(db *sql.DB, name string) {
	db.Query("SELECT * FROM users WHERE name = '" + name + "'")
}

// Run runs a command from a variable.
func Run(cmd string) {
	exec.Command("sh", "-c", cmd).Run()
}

// Hash uses MD5.
func Hash(b []byte) []byte {
	h := md5.Sum(b)
	return h[:]
}

// Client skips TLS verification.
func Client() *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
}

// Token uses math/rand.
func Token() int {
	return rand.Int()
}

// Perms writes a world-writable file.
func Perms() {
	os.WriteFile("/tmp/x", []byte("x"), 0o777)
}

// Password is a hard-coded credential: G101 is left to the secrets analyzer.
var Password = "hunter2-Sup3rS3cret-Value"

// Serve has no timeouts.
func Serve() {
	http.ListenAndServe(":8080", nil)
}
