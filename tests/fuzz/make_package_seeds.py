#!/usr/bin/env python3
"""Writes the seed corpus of the package fuzz target (tests/fuzz/corpus/package/): small real
.nupkg, .zip, .tar, .tar.gz and .tar.bz2 files and bare .nuspec documents, byte-for-byte the same
on every run (fixed timestamps). Run from anywhere; it overwrites the files it owns."""
import bz2
import gzip
import io
import os
import tarfile
import zipfile

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "package")
STAMP = (2026, 1, 2, 3, 4, 6)


def nuspec(id_, version, extra=""):
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">\n'
            f"  <metadata>\n    <id>{id_}</id>\n    <version>{version}</version>\n"
            f"    <authors>Cuttle</authors>\n    <description>Seed</description>{extra}\n"
            "  </metadata>\n</package>\n")


def zip_bytes(entries, method=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in entries:
            z.writestr(zipfile.ZipInfo(name, STAMP), data, compress_type=method)
    return buf.getvalue()


def tar_bytes(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1767323046
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def main():
    os.makedirs(OUT, exist_ok=True)
    app = [("bin/app.sh", b"#!/bin/sh\necho hello\n"), ("config/app.json", b'{"port": 8080}\n')]
    seeds = {
        "nupkg": zip_bytes([("My.App.nuspec", nuspec("My.App", "1.2.3-beta.1").encode()),
                            ("content/readme.txt", b"hello\n")]),
        "nupkg_stored": zip_bytes([("Tools.nuspec", nuspec("Tools", "2.0").encode())],
                                  zipfile.ZIP_STORED),
        "nupkg_nested_nuspec": zip_bytes([("sub/Other.nuspec", nuspec("Other", "1.0.0").encode()),
                                          ("Real.nuspec", nuspec("Real", "3.0.0.1").encode())]),
        "nupkg_no_nuspec": zip_bytes([("lib/net8.0/App.dll", b"MZ\x90\x00")]),
        "zip": zip_bytes(app),
        "tar": tar_bytes(app),
        "tar_gz": gzip.compress(tar_bytes(app), mtime=0),
        "tar_bz2": bz2.compress(tar_bytes(app)),
        "nuspec_xml": nuspec("Web.App", "1.0.0", "\n    <title>Web &amp; API</title>"
                             "\n    <releaseNotes><![CDATA[<b>fixed</b> &#x263A;]]></releaseNotes>"),
        "nuspec_tricky_xml": ('<?xml version="1.0"?><!-- <id>Comment.Id</id> -->'
                              "<ns:package xmlns:ns='x'><ns:metadata><ns:dependencies>"
                              "<ns:dependency id='Dep' version='1.0'/></ns:dependencies>"
                              "<ns:id>Outer</ns:id><ns:version>1.0.0-rc.1+sha.5</ns:version>"
                              "<ns:summary/></ns:metadata></ns:package>"),
    }
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)


if __name__ == "__main__":
    main()
