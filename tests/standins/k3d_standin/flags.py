"""A small pflag: long/short flags, --flag=value, bool flags that never consume the next word.

The last point is the trap k3d users meet: ``k3d cluster create --wait false`` sets wait=true and
makes ``false`` the cluster name.
"""

GO_BOOLS = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
            "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False}


class FlagError(Exception):
    """A command-line error cobra reports as ``Error: ...`` with exit 1."""


class Flag:
    def __init__(self, name, kind="str", short=None, default=None):
        self.name, self.kind, self.short = name, kind, short
        self.default = [] if kind == "array" and default is None else default

    def label(self):
        return "-%s, --%s" % (self.short, self.name) if self.short else "--" + self.name

    def convert(self, raw):
        if self.kind == "bool":
            if raw not in GO_BOOLS:
                raise FlagError('invalid argument "%s" for "%s" flag: strconv.ParseBool: parsing "%s": invalid syntax'
                                % (raw, self.label(), raw))
            return GO_BOOLS[raw]
        if self.kind == "int":
            try:
                return int(raw)
            except ValueError:
                raise FlagError('invalid argument "%s" for "%s" flag: strconv.ParseInt: parsing "%s": invalid syntax'
                                % (raw, self.label(), raw))
        return raw


GLOBAL = [Flag("verbose", "bool"), Flag("trace", "bool"), Flag("timestamps", "bool"), Flag("help", "bool", "h")]


def parse(argv, flags):
    """-> (values by flag name, names of flags given, positional arguments)."""
    flags = list(flags) + GLOBAL
    by_long = dict((f.name, f) for f in flags)
    by_short = dict((f.short, f) for f in flags if f.short)
    values = dict((f.name, list(f.default) if f.kind == "array" else f.default) for f in flags)
    given, positional = set(), []
    words = list(argv)
    while words:
        word = words.pop(0)
        if word == "--":
            positional.extend(words)
            break
        if word.startswith("--"):
            name, has_value, raw = word[2:].partition("=")
            flag = by_long.get(name)
            if flag is None:
                raise FlagError("unknown flag: --%s" % name)
        elif word.startswith("-") and word != "-":
            flag = by_short.get(word[1])
            if flag is None:
                raise FlagError("unknown shorthand flag: '%s' in %s" % (word[1], word))
            rest = word[2:]
            has_value = bool(rest)
            raw = rest[1:] if rest.startswith("=") else rest
        else:
            positional.append(word)
            continue
        if not has_value:
            if flag.kind == "bool":
                raw = "true"
            elif words:
                raw = words.pop(0)
            else:
                where = word if word.startswith("--") else "'%s' in -%s" % (flag.short, flag.short)
                raise FlagError("flag needs an argument: %s" % where)
        value = flag.convert(raw)
        if flag.kind == "array":
            values[flag.name].append(value)
        else:
            values[flag.name] = value
        given.add(flag.name)
    return values, given, positional
