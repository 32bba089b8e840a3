package main

import (
	"net/http"
	"net/http/httptest"
)

func handler(w http.ResponseWriter, r *http.Request) {
	var m map[string]string
	m[r.URL.Path] = "x"
}

func main() {
	s := httptest.NewServer(http.HandlerFunc(handler))
	defer s.Close()
	http.Get(s.URL + "/p")
	var p *int
	println(*p)
}
