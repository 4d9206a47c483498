"""Loading a module library from disk: files -> validated, immutable modules.

Layout of a library directory::

    library.yaml          optional: name, fallback, declared template variables, small-talk words
    core/*.md             always sent (identity, workspace, rules)
    tools/*.md            one per capability, selected by the router
    response/*.md         always sent, last (output format)

A module file is Markdown with optional YAML front matter between `---` lines (a UTF-8 byte
order mark and CRLF or CR line endings are fine). Files whose name starts with `.` or `_` are
ignored; anything else that is not a `.md` file is an error (a `web_search.txt` silently
skipped would be lost guidance). Every problem found is collected and reported together; a
library with any problem does not load at all.

Only regular files inside the library directory are read: a symbolic link that resolves
outside it, a device, a FIFO or a socket is an error, never opened for reading. Files and the
library as a whole are limited in size (`LibraryLimits`), so loading costs bounded time and
memory whatever is on disk.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import jinja2
import yaml

from . import templating
from .errors import LibraryError, Problem, RenderError
from .normalize import tokens
from .triggers import CompiledTrigger, Trigger, TriggerMatcher, compile_trigger

GROUPS: tuple[str, ...] = ("core", "tools", "response")
FallbackMode = Literal["all", "core"]
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_LIBRARY_FILE = "library.yaml"
# libyaml's parser when PyYAML was built with it (it is ~10x faster on a large library).
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class LibraryLimits:
    """What one library may cost to load and render (settings: `library_max_module_bytes`,
    `library_max_bytes`, `template_max_output_chars`)."""

    max_module_bytes: int = 1024 * 1024  # one module file, or library.yaml
    max_library_bytes: int = 16 * 1024 * 1024  # all files together
    max_template_output_chars: int = 1024 * 1024  # one rendered module, or one string a template builds


@dataclass(frozen=True)
class Variable:
    """A per-request template variable the library declares in library.yaml."""

    name: str
    description: str = ""
    default: str | None = None

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass(frozen=True)
class PromptModule:
    """One validated module. `text` is the rendered body when it uses no variables."""

    id: str
    group: str
    path: str
    body: str
    description: str = ""
    triggers: tuple[Trigger, ...] = ()
    requires: tuple[str, ...] = ()
    order: int = 100
    cache_stable: bool = True
    tools: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    variables: frozenset[str] = frozenset()
    text: str | None = None
    template: jinja2.Template | None = field(default=None, compare=False, repr=False)

    @property
    def is_static(self) -> bool:
        return self.text is not None


@dataclass(frozen=True)
class ModuleLibrary:
    """A whole validated library. Modules are in canonical order: core, tools, response,
    each group by (`order`, id)."""

    root: str
    name: str
    version: str
    fallback: FallbackMode
    modules: tuple[PromptModule, ...]
    variables: tuple[Variable, ...]
    matcher: TriggerMatcher = field(compare=False, repr=False)
    closure: dict[str, tuple[str, ...]] = field(compare=False, repr=False)
    # Normalised words that make up small talk ("hi", "thanks", "ok"...): a message made of
    # these alone needs no tool module (library.yaml `small_talk`).
    small_talk: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    _by_id: dict[str, PromptModule] = field(init=False, compare=False, repr=False)
    _position: dict[str, int] = field(init=False, compare=False, repr=False)

    def is_small_talk(self, text: str, max_words: int = 12) -> bool:
        """Whether `text` is only small talk: one to `max_words` words, every one of them a
        small-talk word of the library (punctuation and emoji aside)."""
        if not self.small_talk:
            return False
        words = tokens(text[:400])  # small talk is short: a long message is not, whatever it holds
        return 0 < len(words) <= max_words and all(w in self.small_talk for w in words)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {m.id: m for m in self.modules})
        object.__setattr__(self, "_position", {m.id: i for i, m in enumerate(self.modules)})

    def __getitem__(self, module_id: str) -> PromptModule:
        return self._by_id[module_id]

    def __contains__(self, module_id: object) -> bool:
        return module_id in self._by_id

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(m.id for m in self.modules)

    def group(self, name: str) -> tuple[PromptModule, ...]:
        return tuple(m for m in self.modules if m.group == name)

    @property
    def always_ids(self) -> tuple[str, ...]:
        """Core and response modules: in every prompt."""
        return tuple(m.id for m in self.modules if m.group != "tools")

    @property
    def tool_ids(self) -> tuple[str, ...]:
        return tuple(m.id for m in self.modules if m.group == "tools")

    def canonical(self, module_ids: Iterable[str]) -> tuple[str, ...]:
        """The given ids, deduplicated, in canonical library order."""
        position = self._position
        return tuple(sorted(set(module_ids), key=position.__getitem__))


# --- parsing ------------------------------------------------------------------------------


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: Path | str, message: str, line: int | None = None, field: str | None = None) -> None:
        self.problems.append(Problem(str(path), message, line, field))


class _Reader:
    """Reads a library's files: regular files inside the library only, within the limits."""

    def __init__(self, root: Path, limits: LibraryLimits, out: _Collector) -> None:
        self.root = Path(os.path.realpath(root))
        self.limits = limits
        self.out = out
        self.total = 0
        self.over_budget = False
        self.contents: dict[Path, bytes] = {}  # what was read, for the version hash

    def inside(self, path: Path) -> bool:
        """Whether `path` resolves inside the library; says why not when it does not."""
        real = Path(os.path.realpath(path))
        if real == self.root or real.is_relative_to(self.root):
            return True
        self.out.add(path, f"is a symbolic link to {real}, outside the library: only files inside it are read")
        return False

    def read(self, path: Path) -> bytes | None:
        if self.over_budget or not self.inside(path):
            return None
        limits, out = self.limits, self.out
        real = Path(os.path.realpath(path))
        try:
            if not stat.S_ISREG(real.stat().st_mode):
                out.add(path, "is not a regular file (a device, FIFO or socket?): only regular files are read")
                return None
            # O_NOFOLLOW: the path was resolved, a link swapped in since is refused; O_NONBLOCK:
            # a FIFO swapped in since cannot block the open.
            fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            out.add(path, f"cannot read: {exc.strerror}")
            return None
        try:
            with os.fdopen(fd, "rb") as handle:
                fd = -1
                if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                    out.add(path, "is not a regular file (a device, FIFO or socket?): only regular files are read")
                    return None
                data = handle.read(limits.max_module_bytes + 1)
        except OSError as exc:
            out.add(path, f"cannot read: {exc.strerror}")
            return None
        finally:
            if fd >= 0:
                os.close(fd)
        if len(data) > limits.max_module_bytes:
            out.add(path, f"is larger than {limits.max_module_bytes:,} bytes, the limit for one file "
                          "(setting library_max_module_bytes)")
            return None
        self.total += len(data)
        if self.total > limits.max_library_bytes:
            self.over_budget = True
            out.add(self.root, f"library is larger than {limits.max_library_bytes:,} bytes in all; "
                               "files after this one were not read (setting library_max_bytes)")
            return None
        self.contents[path] = data
        return data

    def read_text(self, path: Path) -> str | None:
        """The file as text: UTF-8 (a byte order mark dropped), line endings made `\n`."""
        data = self.read(path)
        if data is None:
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            self.out.add(path, f"not valid UTF-8 (byte {exc.start})", line)
            return None
        return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _split_front_matter(text: str) -> tuple[str | None, int, str, int]:
    """(yaml text or None, its first line, body, body's first line); 1-based file lines.
    Raises ValueError for an unclosed block."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        return None, 0, text, 1
    for index in range(1, len(lines)):
        if lines[index].rstrip() == "---":
            return "\n".join(lines[1:index]), 2, "\n".join(lines[index + 1 :]), index + 2
    raise ValueError("front matter starts with '---' but is never closed by a '---' line")


_Entry = tuple[Any, "int | None", "list[int]"]


def _mapping(yaml_text: str, path: Path, first_line: int, out: _Collector) -> dict[str, _Entry] | None:
    """Parse a YAML mapping; return {key: (value, file line of the value, file lines of its
    items when the value is a list)}."""
    loader = _Loader(yaml_text)
    try:
        # One parse: the node tree gives line numbers, the same nodes give the values.
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except RecursionError:
        out.add(path, "invalid YAML: nested too deeply", first_line)
        return None
    except yaml.YAMLError as exc:
        last_line = first_line + yaml_text.count("\n")
        mark = getattr(exc, "problem_mark", None)
        line = min(first_line + mark.line, last_line) if mark is not None else None
        message = f"invalid YAML: {getattr(exc, 'problem', None) or exc}"
        context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and context_mark is not None:
            message += f" ({context} started at line {first_line + context_mark.line})"
        out.add(path, message, line)
        return None
    finally:
        loader.dispose()
    if data is None:
        return {}
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        out.add(path, "must be a mapping of key: value", first_line)
        return None
    lines: dict[str, int] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            continue
        if key_node.value in lines:
            # YAML keeps the last value silently: a second `triggers:` would drop the first list.
            out.add(path, f"duplicate key (first at line {lines[key_node.value]}): give each key once",
                    first_line + key_node.start_mark.line, key_node.value)
        else:
            lines[key_node.value] = first_line + value_node.start_mark.line
    item_lines = {
        k.value: [first_line + item.start_mark.line for item in v.value]
        for k, v in node.value
        if isinstance(k, yaml.ScalarNode) and isinstance(v, yaml.SequenceNode)
    }
    return {str(k): (v, lines.get(str(k)), item_lines.get(str(k), [])) for k, v in data.items()}


def _string_list(value: Any, path: Path, line: int | None, key: str, out: _Collector) -> tuple[str, ...] | None:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        out.add(path, "must be a list of strings", line, key)
        return None
    return tuple(value)


_MODULE_KEYS = {
    "description": "a one-line summary of the module",
    "triggers": "words/phrases that select this tool module",
    "requires": "tool modules this one needs",
    "order": "position within its group (integer, default 100)",
    "cache_stable": "whether a core module may sit in the cached prefix (default true)",
    "tools": "names of the host's tool/function definitions this module governs",
    "examples": "example requests that need this module",
}


@dataclass
class _Draft:
    id: str
    group: str
    path: Path
    body: str
    body_line: int
    meta: dict[str, Any]
    trigger_lines: list[int | None]
    requires_line: int | None
    valid: bool = True  # False: a problem was found; later checks still run so that all are listed


def _read_module(path: Path, group: str, reader: _Reader, out: _Collector) -> _Draft | None:
    module_id = path.stem
    if not _ID.match(module_id):
        out.add(path, f"module id {module_id!r} must be lower-case letters, digits and '_', starting with a letter")
        return None
    text = reader.read_text(path)
    if text is None:
        return None
    try:
        yaml_text, yaml_line, body, body_line = _split_front_matter(text)
    except ValueError as exc:
        out.add(path, str(exc), 1)
        return None
    before = len(out.problems)
    if not body.strip():
        out.add(path, "module is empty: it has no text after its front matter", body_line)
    meta: dict[str, Any] = {}
    trigger_lines: list[int | None] = []
    requires_line = None
    if yaml_text is not None:
        parsed = _mapping(yaml_text, path, yaml_line, out)
        for key, (value, line, item_lines) in (parsed or {}).items():
            if key not in _MODULE_KEYS:
                allowed = ", ".join(_MODULE_KEYS)
                out.add(path, f"unknown key (allowed: {allowed})", line, key)
            elif key == "description":
                if isinstance(value, str):
                    meta[key] = value
                else:
                    out.add(path, "must be a string", line, key)
            elif key == "order":
                if isinstance(value, int) and not isinstance(value, bool):
                    meta[key] = value
                else:
                    out.add(path, "must be an integer", line, key)
            elif key == "cache_stable":
                if isinstance(value, bool):
                    meta[key] = value
                else:
                    out.add(path, "must be true or false", line, key)
            else:
                values = _string_list(value, path, line, key, out)
                if values is None:
                    continue
                meta[key] = values
                if key == "triggers":
                    trigger_lines = list(item_lines) or [line]
                if key == "requires":
                    requires_line = line
    if group != "tools":
        for key in ("triggers", "requires", "tools"):
            if meta.pop(key, None):
                out.add(path, f"only tool modules can have {key}: {group} modules are always sent", None, key)
    # A module with a problem is still checked further (its triggers, requires and template),
    # so that one run lists everything; the library does not load either way.
    return _Draft(module_id, group, path, body.strip(), body_line, meta, trigger_lines, requires_line,
                  valid=len(out.problems) == before)


@dataclass(frozen=True)
class _Settings:
    name: str
    fallback: FallbackMode = "all"
    variables: tuple[Variable, ...] = ()
    small_talk: frozenset[str] = frozenset()


def _read_settings(root: Path, reader: _Reader, out: _Collector) -> _Settings:
    path = root / _LIBRARY_FILE
    name: str = root.name
    fallback: FallbackMode = "all"
    variables: list[Variable] = []
    small_talk: set[str] = set()
    if not os.path.lexists(path):
        return _Settings(name)
    text = reader.read_text(path)
    if text is None:
        return _Settings(name)
    parsed = _mapping(text, path, 1, out)
    if parsed is None:
        return _Settings(name)
    for key, (value, line, _items) in parsed.items():
        if key == "name":
            if not isinstance(value, str) or not value:
                out.add(path, "must be a non-empty string", line, key)
            else:
                name = value
        elif key == "fallback":
            if value == "all" or value == "core":
                fallback = value
            else:
                out.add(path, "must be 'all' (send the full prompt) or 'core' (core + response only)", line, key)
        elif key == "variables":
            if not isinstance(value, dict):
                out.add(path, "must be a mapping of variable name to {description, default}", line, key)
                continue
            for var, spec in value.items():
                spec = spec or {}
                if not isinstance(var, str) or not var.isidentifier():
                    out.add(path, f"{var!r} is not a valid variable name", line, key)
                elif not isinstance(spec, dict) or set(spec) - {"description", "default"}:
                    out.add(path, f"variable {var!r} takes only 'description' and 'default'", line, key)
                elif spec.get("default") is not None and not isinstance(spec["default"], str):
                    out.add(path, f"default of variable {var!r} must be a string", line, key)
                else:
                    variables.append(Variable(var, str(spec.get("description", "")), spec.get("default")))
        elif key == "small_talk":
            if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                out.add(path, "must be a list of words or short phrases", line, key)
                continue
            for phrase in value:
                small_talk.update(tokens(phrase))
        else:
            out.add(path, "unknown key (allowed: name, fallback, variables, small_talk)", line, key)
    return _Settings(name, fallback, tuple(sorted(variables, key=lambda v: v.name)), frozenset(small_talk))


def _find_line(body: str, needle: str, body_line: int) -> int:
    for offset, text in enumerate(body.split("\n")):
        if needle in text:
            return body_line + offset
    return body_line


def _compile_module(draft: _Draft, variables: dict[str, Variable], limits: LibraryLimits,
                    out: _Collector) -> PromptModule | None:
    if "{" not in draft.body:
        # No Jinja delimiters: the body renders to itself. Skipping the template compiler
        # keeps loading a large library fast.
        return _module(draft, draft.body, frozenset(), None)
    try:
        template, used = templating.parse(draft.body, limits.max_template_output_chars)
    except jinja2.TemplateSyntaxError as exc:
        out.add(draft.path, f"template syntax error: {exc.message}", draft.body_line + (exc.lineno or 1) - 1)
        return None
    except RecursionError:
        out.add(draft.path, "template is nested too deeply", draft.body_line)
        return None
    undeclared = sorted(used - variables.keys())
    for var in undeclared:
        out.add(
            draft.path,
            f"template variable {var!r} is not declared in {_LIBRARY_FILE} 'variables'",
            _find_line(draft.body, var, draft.body_line),
        )
    if undeclared:
        return None
    # Render once now, with defaults or placeholders, so runtime template errors surface at load.
    trial = {v: variables[v].default if variables[v].default is not None else f"<{v}>" for v in used}
    try:
        rendered = templating.render(template, draft.id, trial)
    except RenderError as exc:
        line = draft.body_line + exc.line - 1 if exc.line else draft.body_line
        out.add(draft.path, f"template fails to render: {exc}", line)
        return None
    return _module(draft, rendered if not used else None, used, template if used else None)


def _module(draft: _Draft, text: str | None, used: frozenset[str], template: jinja2.Template | None) -> PromptModule:
    meta = draft.meta
    trigger_texts = meta.get("triggers") or ()
    triggers = tuple(
        Trigger(draft.id, text, draft.trigger_lines[i] if i < len(draft.trigger_lines) else None)
        for i, text in enumerate(trigger_texts)
    )
    return PromptModule(
        id=draft.id,
        group=draft.group,
        path=str(draft.path),
        body=draft.body,
        description=meta.get("description", "") or "",
        triggers=triggers,
        requires=tuple(meta.get("requires") or ()),
        order=meta.get("order", 100),
        cache_stable=meta.get("cache_stable", True),
        tools=tuple(meta.get("tools") or ()),
        examples=tuple(meta.get("examples") or ()),
        variables=used,
        text=text,
        template=template,
    )


def _check_requires(drafts: dict[str, _Draft], out: _Collector) -> dict[str, tuple[str, ...]]:
    before = len(out.problems)
    requires = {d.id: tuple(d.meta.get("requires") or ()) for d in drafts.values()}
    for draft in drafts.values():
        for dep in requires[draft.id]:
            if dep not in drafts:
                out.add(draft.path, f"requires unknown module {dep!r}", draft.requires_line, "requires")
            elif drafts[dep].group != "tools":
                out.add(draft.path, f"requires {dep!r}, a {drafts[dep].group} module that is always sent anyway",
                        draft.requires_line, "requires")
    if len(out.problems) > before:
        return {}  # the graph is incomplete; cycles are checked once the rest is fixed
    # Depth-first search for cycles; also yields each module's transitive requirements.
    closure: dict[str, tuple[str, ...]] = {}
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> set[str]:
        if state.get(node) == 2:
            return set(closure[node])
        if state.get(node) == 1:
            cycle = " -> ".join(stack[stack.index(node) :] + [node])
            raise ValueError(cycle)
        state[node] = 1
        found: set[str] = set()
        for dep in requires[node]:
            found |= {dep} | visit(dep, stack + [dep])
        state[node] = 2
        closure[node] = tuple(sorted(found))
        return found

    for module_id in sorted(drafts):
        try:
            visit(module_id, [module_id])
        except ValueError as exc:
            out.add(drafts[module_id].path, f"requires forms a cycle: {exc}", drafts[module_id].requires_line, "requires")
            return {}
    return closure


def _version(root: Path, contents: dict[Path, bytes]) -> str:
    digest = hashlib.sha256()
    for path in sorted(contents):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(contents[path].replace(b"\r\n", b"\n") + b"\0")
    return digest.hexdigest()[:12]


def load_library(root: str | Path, limits: LibraryLimits | None = None) -> ModuleLibrary:
    """Load and validate the library at `root`. Raises LibraryError listing every problem."""
    root = Path(root)
    limits = limits or LibraryLimits()
    out = _Collector()
    if not root.is_dir():
        out.add(root, "module library directory does not exist" if not root.exists() else "is not a directory")
        raise LibraryError(str(root), out.problems)
    reader = _Reader(root, limits, out)

    for entry in sorted(root.iterdir()):
        if entry.is_dir() and entry.name not in GROUPS and not entry.name.startswith((".", "_")):
            out.add(entry, f"unexpected folder: a library has only {', '.join(GROUPS)}")
    settings = _read_settings(root, reader, out)
    declared = {v.name: v for v in settings.variables}

    drafts: dict[str, _Draft] = {}
    for group in GROUPS:
        folder = root / group
        if not folder.is_dir():
            out.add(folder, f"missing group folder '{group}/'")
            continue
        if not reader.inside(folder):
            continue
        for path in sorted(folder.iterdir()):
            if path.name.startswith((".", "_")):
                continue
            if path.is_dir() or path.suffix != ".md":
                out.add(path, "unexpected entry: modules are .md files (prefix a name with '_' to keep it out)")
                continue
            draft = _read_module(path, group, reader, out)
            if draft is None:
                continue
            if draft.id in drafts:
                out.add(path, f"duplicate module id {draft.id!r} (also {drafts[draft.id].path})")
                continue
            drafts[draft.id] = draft
    if not drafts and not out.problems:
        out.add(root, "library has no modules")

    triggers: list[Trigger] = []
    specs: list[CompiledTrigger] = []
    for draft in drafts.values():
        for index, text in enumerate(draft.meta.get("triggers") or ()):
            line = draft.trigger_lines[index] if index < len(draft.trigger_lines) else None
            try:
                specs.append(compile_trigger(text))
                triggers.append(Trigger(draft.id, text, line))
            except ValueError as exc:
                out.add(draft.path, str(exc), line, "triggers")
    closure = _check_requires(drafts, out)

    compiled: dict[str, PromptModule] = {}
    for draft in drafts.values():
        module = _compile_module(draft, declared, limits, out)
        if module is not None:
            compiled[module.id] = module
    if out.problems:
        raise LibraryError(str(root), out.problems)

    group_rank = {g: i for i, g in enumerate(GROUPS)}
    ordered = tuple(sorted(compiled.values(), key=lambda m: (group_rank[m.group], m.order, m.id)))
    return ModuleLibrary(
        root=str(root),
        name=settings.name,
        version=_version(root, reader.contents),
        fallback=settings.fallback,
        modules=ordered,
        variables=settings.variables,
        matcher=TriggerMatcher(triggers, specs),
        closure=closure,
        small_talk=settings.small_talk,
    )


def bundled_library_dir() -> Path:
    """The default library: inside the wheel when installed, `./modules` in a checkout."""
    here = Path(__file__).resolve().parent
    packaged = here / "default_modules"
    return packaged if packaged.is_dir() else here.parent / "modules"
