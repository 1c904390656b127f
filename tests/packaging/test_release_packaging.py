"""The release machinery that only Windows, macOS or GitHub run, checked here as far as Linux can:
the workflow lints clean, the Inno Setup script matches the bundle and the project, the build
assembles the right installer and disk-image commands, the Linux desktop entry validates."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import stat
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

from desktop.core import paths

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "release.yml"
ISS = REPO / "packaging" / "windows" / "QwenDesktop.iss"
ISL = REPO / "packaging" / "windows" / "ChineseSimplified.isl"
SPEC = REPO / "packaging" / "qwen-desktop.spec"
VERSION = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def load_build() -> ModuleType:
    sys.path.insert(0, str(REPO / "packaging"))  # build.py imports bundle_size beside it
    try:
        spec = importlib.util.spec_from_file_location("packaging_build", REPO / "packaging" / "build.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(REPO / "packaging"))


def actionlint() -> str | None:
    """The `test` extra installs actionlint beside this Python; else one on PATH."""
    scripts = Path(sysconfig.get_path("scripts"))
    for candidate in (scripts / "actionlint", scripts / "actionlint.exe"):
        if candidate.is_file():
            return str(candidate)
    return shutil.which("actionlint")


# ---- the GitHub Actions workflow -----------------------------------------------------------------


def test_release_workflow_lints_clean() -> None:
    linter = actionlint()
    if linter is None:
        pytest.skip("actionlint is not installed (pip install -e '.[test]' installs it)")
    result = subprocess.run([linter, "-no-color", str(WORKFLOW)], cwd=REPO, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_release_workflow_builds_smoke_tests_and_drafts_on_tags() -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    for runner in ("windows-latest", "macos-latest", "ubuntu-22.04"):
        assert f"os: {runner}" in text
    for step in ("bash tests/run.sh", "python -m pytest", "bash packaging/build.sh",
                 "python packaging/build.py --require-installer", "bash packaging/smoke-test.sh",
                 "python packaging/smoke_test.py", "choco install innosetup", "actions/upload-artifact"):
        assert step in text, step
    for package in ("dist/QwenDesktop-*.zip", "dist/QwenDesktop-*.tar.gz", "dist/QwenDesktop-*.dmg",
                    "dist/QwenDesktop-*-setup.exe"):
        assert package in text
    release = text[text.index("\n  release:"):]
    assert "if: startsWith(github.ref, 'refs/tags/v')" in release
    assert "gh release create" in release and "--draft" in release and "contents: write" in release


# ---- the Windows installer -------------------------------------------------------------------------


def iss_text() -> str:
    raw = ISS.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "Inno Setup reads UTF-8 only with a byte-order mark"
    return raw.decode("utf-8-sig").replace("\r\n", "\n")


def expand(text: str) -> str:
    """The script with its simple #define constants filled in, as ISPP does."""
    for name, value in re.findall(r'^#define (\w+) "([^"]*)"$', text, re.M):
        text = text.replace("{#" + name + "}", value)
    return text


def spec_names() -> tuple[str, str]:
    spec = SPEC.read_text(encoding="utf-8")
    app = re.search(r'^APP_NAME = "([^"]+)"', spec, re.M)
    cli = re.search(r'^CLI_NAME = "([^"]+)"', spec, re.M)
    assert app and cli
    return app[1], cli[1]


def test_installer_installs_what_the_windows_bundle_holds() -> None:
    text = iss_text()
    app, cli = spec_names()
    sources = re.findall(r'^Source: "\{#BundleDir\}\\([^"]+)"', expand(text), re.M)
    # The windowed and the console executable (the spec builds both on Windows) and _internal\.
    assert sorted(sources) == sorted([f"{app}.exe", f"{cli}.exe", "_internal\\*"])
    assert f'#define AppExe "{app}.exe"' in text
    assert re.search(r'^Name: "\{autoprograms\}\\\{#AppName\}"; Filename: "\{app\}\\\{#AppExe\}"$', text, re.M)
    assert re.search(r'^Name: "\{autodesktop\}.*Tasks: desktopicon$', text, re.M)
    assert re.search(r'^Name: "desktopicon";.*Flags: unchecked$', text, re.M)  # optional, off
    icon = re.search(r"^SetupIconFile=(.+)$", text, re.M)
    assert icon and (ISS.parent / icon[1].replace("\\", "/")).resolve().is_file()


def test_installer_is_per_user_with_the_project_version() -> None:
    text = iss_text()
    assert re.search(r"^PrivilegesRequired=lowest$", text, re.M)
    assert re.search(r"^DefaultDirName=\{autopf\}", text, re.M)  # %LOCALAPPDATA%\Programs per user
    default = re.search(r'#ifndef AppVersion\s+#define AppVersion "([^"]+)"', text)
    assert default and default[1] == VERSION
    build = load_build()
    command = build.installer_command(Path("C:/Inno/ISCC.exe"), Path("dist/QwenDesktop"), Path("dist"))
    assert f"/DAppVersion={VERSION}" in command and command[-1] == str(ISS)
    assert "/DBundleDir=" + str(Path("dist/QwenDesktop")) in command
    base = re.search(r"^OutputBaseFilename=(.+)$", text, re.M)
    assert base
    expected = base[1].replace("{#AppVersion}", VERSION) + ".exe"
    assert build.installer_path(Path("dist")).name.replace(build.platform_tag(), "windows-x86_64") == expected


def test_installer_speaks_english_and_simplified_chinese() -> None:
    text = iss_text()
    languages = dict(re.findall(r'^Name: "(\w+)"; MessagesFile: "([^"]+)"$', text, re.M))
    assert languages == {"english": "compiler:Default.isl",
                         "chinesesimplified": "compiler:Default.isl,ChineseSimplified.isl"}
    isl = ISL.read_bytes()
    assert isl.startswith(b"\xef\xbb\xbf")
    isl_text = isl.decode("utf-8-sig").replace("\r\n", "\n")
    assert re.search(r"^LanguageID=\$0804$", isl_text, re.M)
    messages = dict(re.findall(r"^(\w+)=(.*)$", isl_text, re.M))
    # The pages of a per-user install and uninstall, in Chinese.
    for name in ("WelcomeLabel1", "WizardSelectDir", "WizardSelectTasks", "WizardReady", "FinishedLabel",
                 "ButtonNext", "ButtonInstall", "ButtonFinish", "ConfirmUninstall", "UninstalledAll",
                 "CreateDesktopIcon", "AdditionalIcons", "LaunchProgram"):
        assert re.search(r"[\u4e00-\u9fff]", messages.get(name, "")), name
    # Every custom message of the script exists in both languages.
    custom = re.findall(r"^(english|chinesesimplified)\.(\w+)=(.+)$", text, re.M)
    names = {name for _lang, name, _text in custom}
    assert names and all({(lang, n) for lang, n, _t in custom} >= {("english", n), ("chinesesimplified", n)}
                         for n in names)


def test_uninstall_keeps_the_data_folder_unless_the_user_says_yes() -> None:
    text = iss_text()
    code = text[text.index("[Code]"):]
    folder = re.search(r'#define DataFolderName "([^"]+)"', text)
    # The folder desktop/core/paths.py uses on Windows: platformdirs' roaming user data dir.

    assert folder and folder[1] == paths.APP_DIR_NAME
    assert "{userappdata}\\{#DataFolderName}" in code
    assert "MB_YESNO or MB_DEFBUTTON2" in code  # No is the default answer
    assert "not UninstallSilent" in code  # a silent uninstall never asks, so it keeps the data
    delete = code.index("DelTree(")
    assert "and DeleteUserData then" in code[:delete] and "usPostUninstall" in code[:delete]


def test_windows_data_folder_is_roaming_appdata(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The folder the uninstaller offers to delete is the one the app writes to on Windows."""
    import platformdirs.windows

    monkeypatch.setattr(platformdirs.windows, "get_win_folder",
                        lambda csidl: str(tmp_path / {"CSIDL_APPDATA": "Roaming"}.get(csidl, "Other")))
    folder = platformdirs.windows.Windows(**paths.PLATFORMDIRS_ARGS).user_data_dir
    assert Path(folder) == tmp_path / "Roaming" / paths.APP_DIR_NAME


def test_the_windows_zip_is_portable_and_the_linux_tarball_keeps_its_links(tmp_path: Path) -> None:
    build = load_build()
    bundle = tmp_path / "dist" / "QwenDesktop"
    (bundle / "_internal").mkdir(parents=True)
    (bundle / "QwenDesktop.exe").write_bytes(b"MZ")
    (bundle / "_internal" / "python311.dll").write_bytes(b"MZ")
    zipped = build.archive(bundle, "win32")
    import tarfile
    import zipfile

    with zipfile.ZipFile(zipped) as archive:
        names = set(archive.namelist())
    # An empty data folder beside the exe: the unpacked copy keeps its data there (portable mode).
    assert names == {"QwenDesktop/QwenDesktop.exe", "QwenDesktop/_internal/", "QwenDesktop/_internal/python311.dll",
                     "QwenDesktop/data/"}
    (bundle / "qwen-desktop-cli").symlink_to("QwenDesktop.exe")
    tarball = build.archive(bundle, "linux")
    assert not zipped.exists()  # the previous archive is replaced
    with tarfile.open(tarball) as archive:
        link = archive.getmember("QwenDesktop/qwen-desktop-cli")
    assert link.issym() and link.linkname == "QwenDesktop.exe"


# ---- macOS disk image ------------------------------------------------------------------------------


def test_dmg_holds_the_app_and_a_link_to_applications(tmp_path: Path) -> None:
    build = load_build()
    app = tmp_path / "QwenDesktop.app"
    commands = build.dmg_commands(app, tmp_path / "staging", tmp_path / "out.dmg")
    assert commands[0] == ["ditto", str(app), str(tmp_path / "staging" / "QwenDesktop.app")]
    assert commands[1] == ["ln", "-s", "/Applications", str(tmp_path / "staging" / "Applications")]
    create = commands[2]
    assert create[:2] == ["hdiutil", "create"] and create[-1] == str(tmp_path / "out.dmg")
    assert create[create.index("-srcfolder") + 1] == str(tmp_path / "staging")
    assert create[create.index("-format") + 1] == "UDZO"  # compressed, read-only


# ---- Linux desktop entry ---------------------------------------------------------------------------


@pytest.mark.skipif(not shutil.which("desktop-file-validate"), reason="desktop-file-utils not installed")
def test_desktop_entry_validates_as_shipped_and_as_installed(tmp_path: Path) -> None:
    entry = REPO / "resources" / "qwen-desktop.desktop"
    result = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr
    # The bundle's install-desktop-entry.sh, run from a folder whose path has spaces and Chinese.
    bundle = tmp_path / "我的 程序" / "QwenDesktop"
    icons = bundle / "_internal" / "desktop" / "resources" / "icons"
    icons.mkdir(parents=True)
    shutil.copy2(entry, icons.parent / entry.name)
    for png in (REPO / "resources" / "icons").glob("*.png"):
        shutil.copy2(png, icons / png.name)
    script = bundle / "install-desktop-entry.sh"
    shutil.copy2(REPO / "packaging" / "linux" / "install-desktop-entry.sh", script)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    data_home = tmp_path / "data home"
    env = {**os.environ, "XDG_DATA_HOME": str(data_home)}
    subprocess.run(["sh", str(script)], env=env, check=True, capture_output=True, timeout=60)
    installed = data_home / "applications" / "qwen-desktop.desktop"
    text = installed.read_text(encoding="utf-8")
    assert f'Exec="{bundle}/QwenDesktop"' in text.splitlines()
    result = subprocess.run(["desktop-file-validate", str(installed)], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr
    assert (data_home / "icons" / "hicolor" / "256x256" / "apps" / "qwen-desktop.png").is_file()
