// Package app has safe look-alikes.
package app

import (
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"os"
	"os/exec"
)

// SafeQuery is parameterized; the comment says db.Query(fmt.Sprintf(...)).
func SafeQuery(db *sql.DB, name string) {
	db.Query("SELECT * FROM users WHERE name = ?", name)
	_ = "exec.Command(\"sh\", \"-c\", cmd) md5.Sum"
}

// SafeRun runs a constant command.
func SafeRun() {
	exec.Command("ls", "-l").Run()
}

// SafeHash uses SHA-256.
func SafeHash(b []byte) []byte {
	h := sha256.Sum256(b)
	return h[:]
}

// SafeToken uses crypto/rand.
func SafeToken() []byte {
	b := make([]byte, 16)
	rand.Read(b)
	return b
}

// SafePerms writes a private file.
func SafePerms() {
	os.WriteFile("data/y", []byte("y"), 0o600)
}
