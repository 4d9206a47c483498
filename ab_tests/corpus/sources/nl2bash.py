"""NL2Bash: English descriptions of one-line Linux shell commands, written by experts.

Repository: TellinaTool/nl2bash at commit 466c5fe873ab08c7cc0112ea1521cc6ad9c20992.
Licence: the data folder carries its own licence, MIT (data/bash/LICENSE, "Copyright (c) 2020
NL2Bash dataset"); the repository's code is GPL-3.0, none of which is used here.

Read: data/bash/all.nl (one description a line) and data/bash/all.cm (the command on the same
line). The text is the description, verbatim. The label is the command's first word (the
utility the expert's command starts with), a property of the paired command, never of the
request's wording; utilities seen fewer than 5 times are pooled as `other`.

Every item is a request whose expected answer is a shell command, so every label needs
code_development ("shell commands"). Where the utility's job is to organise files in the
workspace (find/ls/tree listing and selecting files, copy, move, delete, link, rename, make
directories, archive, compress, split, sync), the request also needs file_operations.
"""

from __future__ import annotations

from collections.abc import Iterator

from sources._base import GitTree, Raw, Source

CODE = ("code_development",)
FILES = ("code_development", "file_operations")

# Utilities that organise files (the command lists, selects, copies, moves, deletes, links,
# renames, creates directories, archives, compresses, splits or syncs files).
FILE_UTILITIES = frozenset({
    "find", "ls", "tree", "mkdir", "rmdir", "cp", "mv", "rm", "ln", "rename", "touch",
    "tar", "gzip", "gunzip", "bzip2", "split", "rsync", "scp", "shred",
})
# Every other utility seen at least 5 times in all.cm: shell, text, process and system tools.
SHELL_UTILITIES = frozenset({
    "echo", "cat", "sudo", "ssh", "read", "grep", "cd", "diff", "alias", "yes", "df", "mount",
    "chown", "set", "sort", "comm", "ifconfig", "sed", "shopt", "seq", "ps", "history", "ping",
    "zcat", "screen", "join", "watch", "awk", "su", "top", "dig", "tail", "kill", "chmod", "cal",
    "yum", "who", "du", "tac", "pstree", "date", "paste", "od", "tmux", "env", "git", "nl",
    "chgrp", "head", "fold", "curl", "source", "finger", "wc", "file", "unset", "for", "bind",
    "md5sum", "crontab", "which", "hostname", "basename", "tr", "readlink", "man", "jobs", "$",
    "uname", "pwd", "pushd", "printf", "column", "{", "groups", "export", "cut", "ssh-keygen",
    "rev", "command", "brew", "w", "true", "nohup", "sleep", "dirname", "perl", "mktemp",
    "getent", "apropos", "(", "xargs", "time", "more", "less", "fg", "info", "false", "exec",
})



def read(tree: GitTree) -> Iterator[Raw]:
    texts = tree.read_text("data/bash/all.nl").split("\n")
    commands = tree.read_text("data/bash/all.cm").split("\n")
    for index, (text, command) in enumerate(zip(texts, commands), start=1):
        if not text.strip() or not command.strip():
            continue
        first = command.split()[0]
        label = first if first in FILE_UTILITIES or first in SHELL_UTILITIES else "other"
        yield Raw(label, text.strip(), "en", f"data/bash/all.nl:{index}")


MAPPING: dict[str, tuple[str, ...] | None] = {
    **dict.fromkeys(FILE_UTILITIES, FILES),
    **dict.fromkeys(SHELL_UTILITIES, CODE),
    "other": CODE,
}

SOURCE = Source(
    name="nl2bash",
    repo="TellinaTool/nl2bash",
    commit="466c5fe873ab08c7cc0112ea1521cc6ad9c20992",
    licence="MIT",
    description="NL2Bash: expert-written English descriptions of one-line Linux shell commands",
    read=read,
    mapping=MAPPING,
    max_per_label=25,
    max_per_target=150,
    notes=(
        "Label = first word of the paired gold command (all.cm), not the request text.",
        "All labels -> code_development: the dataset's answer to every request is a shell command.",
        "File-organising utilities (find, ls, tree, mkdir, rmdir, cp, mv, rm, ln, rename, touch, tar, "
        "gzip, gunzip, bzip2, split, rsync, scp, shred) -> code_development + file_operations; "
        "a reviewer may prefer file_operations alone for requests that never mention a shell.",
        "chmod/chown/chgrp, du/df, cat/zcat are kept as code_development only (permissions, disk usage "
        "and printing are system/shell work rather than organising files).",
        "sudo and shell syntax ($, {, (, for) are labelled by the first word; they are still shell "
        "commands, so code_development.",
    ),
)
