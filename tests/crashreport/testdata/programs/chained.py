import json


class ConfigError(Exception):
    pass


def load(text):
    try:
        return json.loads(text)
    except ValueError as e:
        raise ConfigError("bad config") from e


def handle():
    try:
        load("{oops")
    except ConfigError:
        {}["missing"]


handle()
