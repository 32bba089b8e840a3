package main

type MyErr struct{ Code int; Msg string }

func main() {
	panic(MyErr{Code: 3, Msg: "nope"})
}
