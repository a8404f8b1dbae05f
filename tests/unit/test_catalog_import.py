"""Handing a dated catalog to an air-gapped site: export, then import with every check, the difference and a
confirmation; a bad package changes nothing and says what is wrong in one line."""

import hashlib
import io
import sys
import tarfile

import pytest

from advisor import cli
from advisor.catalog import exchange
from advisor.catalog.catalog import bundled_catalog, load_catalog
from advisor.catalog.digest import catalog_sha256
from advisor.catalog.edit import render_rows

CATALOG_FILES = ("cards.csv", "servers.csv", "offers.csv", "energy.csv")
PACKAGED = (*CATALOG_FILES, "rtt.csv", "rtt_locations.csv")  # the row files, then the network round trips


def _bundled_as_of(name: str) -> str:
    """The bundled file's as_of date, as the import prints it (the catalog grows; the tests follow it)."""
    return str(bundled_catalog().as_of[name])


@pytest.fixture(autouse=True)
def own_config(tmp_path, monkeypatch):
    """Never read or write another test's per-user catalog folder."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("GPU_ADVISOR_CATALOG", raising=False)


def _export(tmp_path, name="catalog.tar.gz"):
    out = tmp_path / name
    assert cli.main(["catalog", "export", "--out", str(out)]) == 0
    return out


def _unpacked(tmp_path):
    """The export's files in a folder, as a site that unpacked it holds them."""
    folder = tmp_path / "package"
    folder.mkdir()
    with tarfile.open(_export(tmp_path)) as tar:
        for member in tar:
            (folder / member.name).write_bytes(tar.extractfile(member).read())
    return folder


def _sum(folder):
    names = [n for n in (*PACKAGED, "MANIFEST.json") if (folder / n).exists()]
    (folder / "SHA256SUMS").write_text("".join(f"{hashlib.sha256((folder / n).read_bytes()).hexdigest()}  {n}\n"
                                               for n in names))


def _tar(tmp_path, members):
    """A tar of (TarInfo, data) pairs, with a SHA256SUMS first."""
    out = tmp_path / "crafted.tar"
    with tarfile.open(out, "w") as tar:
        for info, data in members:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out


def _import(source, dest, *extra):
    return cli.main(["catalog", "import", str(source), "--catalog-dir", str(dest), *extra])


def test_export_then_import_round_trips_and_documents_still_verify(tmp_path, capsys):
    package = _export(tmp_path)
    with tarfile.open(package) as tar:
        names = tar.getnames()
        offers = tar.extractfile("offers.csv").read()
    assert names == [*PACKAGED, "MANIFEST.json", "SHA256SUMS"]
    dest = tmp_path / "site-b" / "catalog"
    assert _import(package, dest, "--yes") == 0
    out = capsys.readouterr().out
    assert out.count(": no change") == 6 and "there was no previous catalog there" in out
    assert "the same as at the exporting site" in out
    assert (dest / "offers.csv").read_bytes() == offers  # installed as exported: sha256sum -c still holds
    assert catalog_sha256(load_catalog(dest)) == catalog_sha256(bundled_catalog())


def test_a_sites_own_rows_travel_merged_with_the_bundled_ones(tmp_path, capsys):
    own = tmp_path / "site-a"
    own.mkdir()
    (own / "cards.csv").write_text("# as_of 2026-12-01\nname,name_pattern,vendor,architecture,purchase_price_usd,"
                                   "price_date,source\nAcme X1,X1,Acme,a,1234,2026-11,our purchase order 4711\n")
    out = tmp_path / "a.tar"
    assert cli.main(["catalog", "export", "--catalog-dir", str(own), "--out", str(out)]) == 0
    assert f"cards.csv {len(bundled_catalog().cards) + 1} rows as_of 2026-12-01" in capsys.readouterr().out
    dest = tmp_path / "site-b"
    assert _import(out, dest, "--yes") == 0
    out_text = capsys.readouterr().out
    assert f"cards.csv (as_of {_bundled_as_of('cards.csv')} -> 2026-12-01): 1 added, 0 removed, 0 changed" in out_text
    assert "+ Acme X1" in out_text and "the same as at the exporting site" in out_text
    assert load_catalog(dest).card("Acme X1").purchase_price_usd == 1234
    assert catalog_sha256(load_catalog(dest)) == catalog_sha256(load_catalog(own))


def test_export_never_overwrites_without_the_option_and_wants_a_tar_name(tmp_path, capsys):
    out = _export(tmp_path, "c.tar")
    before = out.read_bytes()
    assert cli.main(["catalog", "export", "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err and out.read_bytes() == before
    assert cli.main(["catalog", "export", "--out", str(out), "--overwrite"]) == 0
    assert cli.main(["catalog", "export", "--out", str(tmp_path / "c.zip")]) == 2
    assert ".tar or .tar.gz" in capsys.readouterr().err


def test_a_changed_price_is_shown_with_its_column(tmp_path, capsys):
    folder = _unpacked(tmp_path)
    offers = bundled_catalog().offers
    first = offers[0]
    changed = [first.model_copy(update={"price_per_hour": 9.99})] + offers[1:]
    (folder / "offers.csv").write_text(render_rows("offers.csv", changed, "# as_of 2026-12-01"))
    _sum(folder)
    assert _import(folder, tmp_path / "dest", "--yes") == 0
    out = capsys.readouterr().out
    assert f"offers.csv (as_of {_bundled_as_of('offers.csv')} -> 2026-12-01): 0 added, 0 removed, 1 changed" in out
    label = " / ".join(p for p in (first.provider, first.offer, first.region) if p)
    assert f"~ {label}: price_per_hour {first.price_per_hour} -> 9.99" in out
    assert "not the one its manifest gives" in out  # the files were changed and summed again


def test_a_tampered_file_is_refused_by_name_and_nothing_is_installed(tmp_path, capsys):
    folder = _unpacked(tmp_path)
    (folder / "offers.csv").write_text((folder / "offers.csv").read_text().replace(",0.", ",1.", 1))
    dest = tmp_path / "dest"
    assert _import(folder, dest, "--yes") == 1
    err = capsys.readouterr().err
    assert "offers.csv does not match its SHA-256 in SHA256SUMS" in err and "nothing was installed" in err
    assert not dest.exists()


@pytest.mark.parametrize("change, message", [
    (lambda f: (f / "SHA256SUMS").unlink(), "has no SHA256SUMS"),
    (lambda f: (f / "notes.csv").write_text("a,b\n"), "notes.csv is not a file of a catalog package"),
    (lambda f: (f / "SHA256SUMS").write_text("".join(line + "\n" for line in (f / "SHA256SUMS").read_text().splitlines()
                                                     if not line.endswith("cards.csv"))),
     "cards.csv is not listed in SHA256SUMS"),
    (lambda f: (f / "energy.csv").unlink(), "lists energy.csv, which the package lacks"),
    (lambda f: ((f / "cards.csv").write_text("name,colour\nX,red\n"), _sum(f)), "cards.csv: unknown column(s) colour"),
    (lambda f: ((f / "cards.csv").write_bytes(b"name\n\xff\n"), _sum(f)), "cards.csv is not UTF-8"),
    (lambda f: ((f / "cards.csv").unlink(), (f / "cards.csv").symlink_to(f / "servers.csv"), _sum(f)), "is a link"),
])
def test_a_bad_package_folder_is_refused_in_one_line(tmp_path, capsys, change, message):
    folder = _unpacked(tmp_path)
    change(folder)
    assert _import(folder, tmp_path / "dest", "--yes") == 1
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and not (tmp_path / "dest").exists()


def _sums_for(**files):
    return "".join(f"{hashlib.sha256(d).hexdigest()}  {n}\n" for n, d in files.items()).encode()


@pytest.mark.parametrize("member, message", [
    (tarfile.TarInfo("../x"), "'../x' is a path"),
    (tarfile.TarInfo("/etc/cards.csv"), "is a path"),
    (tarfile.TarInfo("sub/cards.csv"), "is a path"),
])
def test_a_tar_member_with_a_path_is_refused(tmp_path, capsys, member, message):
    data = b"name\n"
    package = _tar(tmp_path, [(tarfile.TarInfo("SHA256SUMS"), _sums_for(**{"cards.csv": data})), (member, data)])
    assert _import(package, tmp_path / "dest", "--yes") == 1
    assert message in capsys.readouterr().err and not (tmp_path / "dest").exists()


@pytest.mark.parametrize("kind, message", [(tarfile.SYMTYPE, "is a symbolic link"), (tarfile.LNKTYPE, "is a hard link"),
                                           (tarfile.CHRTYPE, "is a device"), (tarfile.FIFOTYPE, "is a FIFO")])
def test_a_tar_member_that_is_not_a_plain_file_is_refused(tmp_path, capsys, kind, message):
    link = tarfile.TarInfo("cards.csv")
    link.type, link.linkname = kind, "/etc/passwd"
    package = _tar(tmp_path, [(tarfile.TarInfo("SHA256SUMS"), b""), (link, b"")])
    assert _import(package, tmp_path / "dest", "--yes") == 1
    assert f"member 'cards.csv' {message}" in capsys.readouterr().err


def test_an_oversized_member_or_a_non_tar_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(exchange, "MAX_FILE_BYTES", 10)
    package = _tar(tmp_path, [(tarfile.TarInfo("cards.csv"), b"x" * 11)])
    assert _import(package, tmp_path / "dest", "--yes") == 1
    assert "cards.csv is 0.0 MiB, over the" in capsys.readouterr().err
    (tmp_path / "junk.tar").write_bytes(b"not a tar at all" * 100)
    assert _import(tmp_path / "junk.tar", tmp_path / "dest", "--yes") == 1
    assert "is not a tar archive" in capsys.readouterr().err
    assert _import(tmp_path / "missing.tar", tmp_path / "dest", "--yes") == 2
    assert "does not exist" in capsys.readouterr().err


def test_the_previous_catalog_is_kept_beside_and_other_contents_stay(tmp_path, capsys):
    package = _export(tmp_path)
    dest = tmp_path / "catalog"
    (dest / "reference").mkdir(parents=True)
    (dest / "reference" / "r.json").write_text("{}")
    previous = "# as_of 2026-11-20\nname,name_pattern,vendor,architecture,source\nAcme X1,X1,Acme,a,our order\n"
    (dest / "cards.csv").write_text(previous)
    assert _import(package, dest, "--yes") == 0
    out = capsys.readouterr().out
    assert f"cards.csv (as_of 2026-11-20 -> {_bundled_as_of('cards.csv')}): 0 added, 1 removed, 0 changed" in out
    assert "- Acme X1" in out
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("catalog.previous-")]
    assert len(kept) == 1 and (kept[0] / "cards.csv").read_text() == previous and f"kept in {kept[0]}" in out
    assert (dest / "reference" / "r.json").read_text() == "{}" and load_catalog(dest).card("Acme X1") is None


def test_a_failed_install_puts_the_previous_files_back(tmp_path, capsys, monkeypatch):
    package = _export(tmp_path)
    dest = tmp_path / "catalog"
    dest.mkdir()
    previous = "# as_of 2026-11-20\nname,name_pattern,vendor,architecture,source\nAcme X1,X1,Acme,a,our order\n"
    (dest / "cards.csv").write_text(previous)
    real = exchange.write_atomic
    def fail_on_offers(path, data, **kwargs):
        if path.name == "offers.csv":
            raise OSError(28, "No space left on device")
        return real(path, data, **kwargs)
    monkeypatch.setattr(exchange, "write_atomic", fail_on_offers)
    assert _import(package, dest, "--yes") == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and "the previous catalog is back in place" in err
    assert sorted(p.name for p in dest.iterdir()) == ["cards.csv"] and (dest / "cards.csv").read_text() == previous


class Stdin(io.StringIO):
    def __init__(self, text: str, tty: bool) -> None:
        super().__init__(text)
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_without_yes_it_asks_on_a_terminal_and_refuses_elsewhere(tmp_path, capsys, monkeypatch):
    package, dest = _export(tmp_path), tmp_path / "dest"
    monkeypatch.setattr(sys, "stdin", Stdin("y\n", tty=False))
    assert _import(package, dest) == 2
    assert "no terminal to confirm on" in capsys.readouterr().err and not dest.exists()
    monkeypatch.setattr(sys, "stdin", Stdin("n\n", tty=True))
    assert _import(package, dest) == 1
    assert "nothing installed" in capsys.readouterr().out and not dest.exists()
    monkeypatch.setattr(sys, "stdin", Stdin("y\n", tty=True))
    assert _import(package, dest) == 0 and (dest / "offers.csv").is_file()


def test_a_destination_that_cannot_be_a_folder_is_named(tmp_path, capsys):
    package = _export(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert _import(package, blocker, "--yes") == 2
    assert "is not a folder" in capsys.readouterr().err
    assert _import(package, blocker / "catalog", "--yes") == 2
    assert "cannot create the catalog folder" in capsys.readouterr().err and blocker.read_text() == "x"


def test_import_needs_a_source_and_other_views_take_none(capsys):
    assert cli.main(["catalog", "import"]) == 2
    assert "needs the package" in capsys.readouterr().err
    assert cli.main(["catalog", "cards", "x.tar"]) == 2
    assert "only catalog import does" in capsys.readouterr().err


def test_the_exporting_sites_round_trips_travel_with_the_package(tmp_path, monkeypatch, capsys):
    """A site's own rtt.csv row (users in FR to Luxembourg) goes into the package, so the receiving site counts the
    same round trip and its documents' catalog digest matches."""
    site = tmp_path / "site-a"
    site.mkdir()
    (site / "rtt_locations.csv").write_text("# as_of 2026-12-07\nvalue,location,place,source\n"
                                            "LU,LU,Luxembourg,our own ping log\n")
    (site / "rtt.csv").write_text("# as_of 2026-12-07\nusers,hosting,rtt_ms,statistic,source,as_of,note\n"
                                  "FR,LU,48,p95,our own ping log 2026-12,2026-12-07,\n")
    monkeypatch.setenv("GPU_ADVISOR_CATALOG", str(site))
    sending = load_catalog(site)
    out = tmp_path / "catalog.tar.gz"
    assert cli.main(["catalog", "export", "--out", str(out)]) == 0
    with tarfile.open(out) as tar:
        assert b"FR,LU,48.0,p95,our own ping log 2026-12" in tar.extractfile("rtt.csv").read()
    monkeypatch.delenv("GPU_ADVISOR_CATALOG")
    dest = tmp_path / "site-b"
    assert _import(out, dest, "--yes") == 0
    out = capsys.readouterr().out
    assert "the same as at the exporting site" in out
    assert "rtt.csv (as_of 2026-07-30 -> 2026-12-07): 1 added, 0 removed, 0 changed\n  + FR / LU" in out
    received = load_catalog(dest)
    assert received.round_trips.rows[("FR", "LU")].rtt_ms == 48
    assert catalog_sha256(received) == catalog_sha256(sending)
