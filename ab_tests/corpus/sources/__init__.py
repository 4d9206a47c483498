"""One file per public source: where it lives (repository, commit, licence), how to read its
labelled utterances, and how its labels map to the bundled library's tool modules."""
