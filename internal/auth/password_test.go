package auth

import "testing"

func TestPasswordRoundTrip(t *testing.T) {
	h, err := HashPassword("demo")
	if err != nil {
		t.Fatal(err)
	}
	if !CheckPassword(h, "demo") {
		t.Fatal("correct password refused")
	}
	if CheckPassword(h, "Demo") || CheckPassword(h, "") {
		t.Fatal("wrong password accepted")
	}
	h2, _ := HashPassword("demo")
	if h == h2 {
		t.Fatal("two hashes of one password share a salt")
	}
	if CheckPassword("garbage", "demo") {
		t.Fatal("malformed hash accepted")
	}
}

func TestTokenHashStable(t *testing.T) {
	tok, hash, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if string(TokenHash(tok)) != string(hash) {
		t.Fatal("token hash not stable")
	}
	tok2, _, _ := NewToken()
	if tok == tok2 || len(tok) < 40 {
		t.Fatalf("weak tokens %q %q", tok, tok2)
	}
}
