import sys


def parse(s):
    return int(s)


def main():
    print(parse("abc" + sys.argv[0][:0]))


if __name__ == "__main__":
    main()
