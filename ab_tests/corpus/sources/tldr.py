"""tldr-pages: community-written one-line descriptions of command-line tasks ("Build a Docker
image using the Dockerfile in the current directory"), for deployment, code and data tools.

Repository: tldr-pages/tldr at commit 08e345f42639f67d99282813247ac670dc6e87cb.
Licence: CC-BY-4.0 for the pages (LICENSE.md: "This work is licensed under the Creative Commons
Attribution 4.0 International License (CC-BY)"; only scripts/ is MIT, and none of it is used).

Read: the English pages pages/common/*.md and pages/linux/*.md whose page name belongs to one of
the tool families listed below (the page name is the command, e.g. `docker-build`,
`kubectl-get`, `aws-s3`, `git-commit`, `csvstat`). Every example line "- <description>:" of such
a page gives one text: the description, verbatim, without its trailing colon. The label is the
tool family (the page name, or the part before its first "-" for multi-page tools such as
docker, kubectl, aws, az, gcloud, git, gh, npm, cargo), a property of the page, never of the
description's wording.

Quality filters (not labels): descriptions of fewer than 6 words are skipped (fragments such as
"Preview changes only" say nothing out of their page's context), and so are the per-page
boilerplate lines that display help or the version.

These are documentation lines, not requests typed by users: they are imperative task
descriptions written by people who use the tools, which is the closest public, permissively
licensed source of deployment requests found.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from sources._base import GitTree, Raw, Source

DEPLOY_FAMILIES = (
    # containers and orchestration
    "docker", "podman", "kubectl", "kubeadm", "kubectx", "kubens", "kustomize", "helm", "minikube",
    "kind", "k3d", "k9s", "skaffold", "argocd", "oc", "nomad",
    # infrastructure as code and configuration
    "terraform", "pulumi", "ansible", "packer", "consul", "vault",
    # clouds and hosting platforms
    "aws", "az", "gcloud", "doctl", "eksctl", "linode-cli", "hcloud", "heroku", "vercel", "netlify",
    "flyctl", "fly", "firebase", "wrangler", "railway", "serverless", "dokku",
    # web servers and certificates
    "nginx", "caddy", "apachectl", "certbot",
    # CI
    "travis",
)
CODE_FAMILIES = (
    # version control and code hosting
    "git", "gh", "gitlab",
    # package managers and build tools
    "npm", "yarn", "pnpm", "bun", "deno", "cargo", "rustup", "pip", "pip3", "poetry", "go", "mvn",
    "gradle", "make", "cmake", "composer", "gem", "bundle", "dotnet",
    # compilers, interpreters, debuggers, test runners, linters, formatters
    "gcc", "clang", "javac", "tsc", "python", "node", "php", "gdb", "pytest", "eslint", "prettier",
    "black", "ruff", "mypy", "pylint", "rails",
)
DATA_PAGES = (
    # CSV/TSV toolkits, SQL over CSV, plotting
    "csvclean", "csvcut", "csvformat", "csvgrep", "csvlook", "csvsort", "csvsql", "csvstat", "csvtool",
    "csv-diff", "csv2tsv", "in2csv", "tsv-filter", "xsv", "mlr", "datamash", "q", "textql", "trdsql",
    "duckdb", "gnuplot",
)
FOLDERS = ("pages/common", "pages/linux")
_EXAMPLE = re.compile(r"^- (.+?):?\s*$")
_BOILERPLATE = re.compile(r"^(display|show|print|view|get) (the )?(help|version|usage)\b", re.I)



def _family(page: str) -> str | None:
    if page in DATA_PAGES:
        return page
    for family in DEPLOY_FAMILIES + CODE_FAMILIES:
        if page == family or page.startswith(family + "-"):
            # a longer family name wins (linode-cli over a hypothetical "linode")
            return max((f for f in DEPLOY_FAMILIES + CODE_FAMILIES if page == f or page.startswith(f + "-")), key=len)
    return None


def read(tree: GitTree) -> Iterator[Raw]:
    for folder in FOLDERS:
        for path in sorted(tree.ls(folder)):
            if not path.endswith(".md"):
                continue
            family = _family(path.rsplit("/", 1)[-1][:-3])
            if family is None:
                continue
            for number, line in enumerate(tree.read_text(path).splitlines(), start=1):
                match = _EXAMPLE.match(line)
                if not match:
                    continue
                text = match.group(1).strip()
                if len(text.split()) < 6 or _BOILERPLATE.match(text):
                    continue
                yield Raw(family, text, "en", f"{path}:{number}")


MAPPING: dict[str, tuple[str, ...] | None] = {
    **dict.fromkeys(DEPLOY_FAMILIES, ("deployment",)),
    **dict.fromkeys(CODE_FAMILIES, ("code_development",)),
    **dict.fromkeys(DATA_PAGES, ("data_processing",)),
}

SOURCE = Source(
    name="tldr",
    repo="tldr-pages/tldr",
    commit="08e345f42639f67d99282813247ac670dc6e87cb",
    licence="CC-BY-4.0",
    description="tldr-pages: task descriptions from command-line help pages for container, cloud, IaC, code and CSV tools",
    read=read,
    mapping=MAPPING,
    max_per_label=12,
    max_per_target=200,
    notes=(
        "Documentation lines, not user-typed requests: use for coverage of deployment wording, not as "
        "evidence of real traffic.",
        "Container, orchestration, IaC, cloud CLIs (aws, az, gcloud, doctl...), hosting platforms, web "
        "servers, certbot and CI -> deployment. aws/az/gcloud pages include storage, IAM and other "
        "services (e.g. 'Sync files in a directory from local to bucket'); all are cloud configuration.",
        "git/gh/gitlab, package managers, build tools, compilers, linters -> code_development.",
        "CSV toolkits, SQL-over-CSV tools, datamash and gnuplot -> data_processing.",
        "File utilities (tar, zip, rename...) are not read here (nl2bash covers shell file work); "
        "systemctl, ssh, vagrant, k6 and other ambiguous tools are not read either.",
        "Descriptions under 6 words and 'display help/version' lines are skipped as fragments.",
    ),
)
