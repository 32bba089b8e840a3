# A Python script that dies of an uncaught ValueError (exit status 1):
# <module> -> main -> parse_count -> int('abc').
import sys


def parse_count(text):
    return int(text)  # PARSE-LINE


def main():
    print("py_crash: parsing", flush=True)
    return parse_count(sys.argv[1] if len(sys.argv) > 1 else "abc")


main()
