

def test_an_atomic_write_leaves_an_ordinary_file(tmp_path):
    import os
    import stat

    from prompt_router.storage import write_atomic

    fresh = tmp_path / "fresh.json"
    write_atomic(fresh, "{}")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask  # not mkstemp's private 0600
    kept = tmp_path / "kept.json"
    kept.write_text("old")
    kept.chmod(0o640)
    write_atomic(kept, "new")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640 and kept.read_text() == "new"
