"""Options of the tools around a bundle: package, demo, info, data."""

from __future__ import annotations

import keyword
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from toolkit.config.choices import PACKAGE_NAME, PACKAGE_TAKEN, PACKAGE_VERSION
from toolkit.options import inside, option, raise_problems


def installed_distribution(name: str) -> str | None:
    """The installed distribution (pip, torch, ...) a wheel called `name` would replace, or None; an
    earlier wheel of `toolkit package` (it carries `NAME/_runtime/`) may be replaced by the next."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        found = distribution(name)
    except PackageNotFoundError:
        return None
    packaged = any(str(f).replace("\\", "/") == f"{name}/_runtime/__init__.py" for f in found.files or ())
    return None if packaged else found.metadata["Name"]


# What `toolkit data` writes: --overwrite replaces a folder holding nothing else.
DATASET_FILE = re.compile(r"^(train|validation|test)\.parquet$")


@dataclass
class PackageConfig:
    bundle: Path = option("a bundle directory made by `toolkit export`", positional=True, type=Path)
    name: str = option("the package's name, e.g. ner_model: `pip install` makes `import NAME` work", "")
    version: str = option("the package's version", "0.1.0")
    variant: str | None = option("the variant to package (default: the bundle's default)", None)
    output_dir: Path = option("where the wheel goes", Path("dist"), type=Path)
    overwrite: bool = option("replace a wheel of the same name and version", False)

    def check(self) -> None:
        """Raise one error naming every option that cannot make a wheel, before the bundle is read."""
        problems: list[str] = []
        if not self.name:
            problems.append("--name is missing: give the package a name, e.g. --name ner_model (then "
                            "`import ner_model` loads it)")
        elif not PACKAGE_NAME.match(self.name):
            problems.append(f"--name {self.name!r} is not a package name: use lower-case letters, digits and _, "
                            "starting with a letter (e.g. ner_model)")
        elif keyword.iskeyword(self.name):
            problems.append(f"--name {self.name!r} is a Python keyword: `import {self.name}` is a syntax error; "
                            f"choose another, e.g. {self.name}_model")
        elif self.name in sys.stdlib_module_names or self.name in PACKAGE_TAKEN:
            problems.append(f"--name {self.name!r} is a module of the standard library, of the wheel's requirements "
                            f"or the toolkit: the wheel would shadow it; choose another, e.g. {self.name}_model")
        elif installed_distribution(self.name):
            problems.append(f"--name {self.name!r} is the name of an installed distribution ({installed_distribution(self.name)}): "
                            f"installing the wheel would replace it; choose another, e.g. {self.name}_model")
        if not PACKAGE_VERSION.match(self.version):
            problems.append(f"--version {self.version!r} is not a version: use numbers with dots, e.g. 1.0.0")
        if Path(self.output_dir).exists() and not Path(self.output_dir).is_dir():
            problems.append(f"--output-dir {self.output_dir} is a file: choose a directory")
        elif inside(self.output_dir, self.bundle):
            problems.append(f"--output-dir {self.output_dir} lies in the bundle {self.bundle}, which this command "
                            "reads: write the wheel outside it")
        raise_problems(problems)


@dataclass
class DemoConfig:
    workdir: Path = option("where the demo's data, checkpoint and report go", Path("runs/demo"), type=Path)
    epochs: float = option("training epochs on the synthetic sample", 3, type=float)


@dataclass
class InfoConfig:
    path: Path = option("a bundle made by `toolkit export` or a checkpoint made by `toolkit train`", positional=True,
                        type=Path)
    json: bool = option("print the facts as JSON instead of text", False)


@dataclass
class DataConfig:
    # No argparse choices: toolkit.data.local_copy's table names the datasets, and check() says them.
    name: str = option("the dataset to write: conll2003 (for ner) or imdb (for sentiment)", positional=True)
    output: Path | None = option("the directory the parquet files go to (default: data/NAME)", None, type=Path)
    source: Path | None = option("read files you already have instead of the hub: a folder of CoNLL-2003 text files "
                                 "(train.txt, valid.txt, test.txt) or the aclImdb tree", None, type=Path)
    overwrite: bool = option("replace --output", False)

    @property
    def output_dir(self) -> Path:
        return Path(self.output) if self.output is not None else Path("data") / self.name

    def check(self) -> None:
        """Raise one error naming every option that cannot write the dataset, before anything is read."""
        from toolkit.data.local_copy import DATASETS

        problems: list[str] = []
        if self.name not in DATASETS:
            problems.append(f"unknown dataset {self.name!r}: expected one of {', '.join(DATASETS)}")
        output = self.output_dir
        if output.exists() and not output.is_dir():
            problems.append(f"--output {output} is a file: choose a directory")
        elif self.source is not None and inside(self.source, output):  # a new folder inside the source is fine
            problems.append(f"--output {output} is or holds --source {self.source}, which this command reads: "
                            "write the dataset elsewhere")
        elif inside(Path.cwd(), output):
            problems.append(f"--output {output} is or holds the current directory: choose a new directory")
        elif output.is_dir() and any(output.iterdir()):
            foreign = sorted(p.name for p in output.iterdir() if not DATASET_FILE.match(p.name))
            if foreign:  # --overwrite replaces a dataset this command wrote, never a folder of other files
                problems.append(f"--output {output} holds files a dataset does not ({', '.join(foreign[:3])}): "
                                "choose a new or empty directory")
            elif not self.overwrite:
                problems.append(f"--output {output} already holds a dataset: pass --overwrite to replace it, or "
                                "choose another directory")
        raise_problems(problems)
