; Inno Setup script for the Windows installer of Qwen Desktop.
;
; packaging/build.py compiles it on Windows after PyInstaller, when Inno Setup 6 is installed:
;   ISCC.exe /DAppVersion=0.1.0 /DBundleDir=dist\QwenDesktop /DOutputDir=dist packaging\windows\QwenDesktop.iss
; giving dist\QwenDesktop-VERSION-windows-x86_64-setup.exe. The .zip beside it is the portable copy.
;
; Per user, no administrator rights: it installs into %LOCALAPPDATA%\Programs\Qwen Desktop, with a
; Start-menu shortcut and, when ticked, a desktop one. The installer speaks English and Simplified
; Chinese (the Windows display language picks one; the user may change it). Uninstalling keeps the
; user's data folder (settings, chat history, notes index, logs) unless the user answers Yes to
; deleting it; a silent uninstall always keeps it.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#ifndef BundleDir
  #define BundleDir "..\..\dist\QwenDesktop"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif
#define AppName "Qwen Desktop"
#define AppExe "QwenDesktop.exe"
; The app's data folder on Windows: platformdirs' user data dir for "QwenDesktop", roaming
; (desktop/core/paths.py), that is %APPDATA%\QwenDesktop.
#define DataFolderName "QwenDesktop"

[Setup]
AppId={{6E0F4C1A-9B57-4D7E-8A3C-2F1D5B9E7C40}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Qwen Desktop
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
DisableDirPage=auto
PrivilegesRequired=lowest
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
WizardStyle=modern
ShowLanguageDialog=auto
Compression=lzma2/max
SolidCompression=yes
SetupIconFile=..\..\resources\qwen-desktop.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
CloseApplications=yes
OutputDir={#OutputDir}
OutputBaseFilename=QwenDesktop-{#AppVersion}-windows-x86_64-setup

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"
Name: "chinesesimplified"; MessagesFile: "compiler:Default.isl,ChineseSimplified.isl"

[CustomMessages]
english.DeleteDataQuestion=Also delete your Qwen Desktop data (settings, chat history, notes index and logs)?%n%n%1%n%nChoose No to keep it for a later installation.
chinesesimplified.DeleteDataQuestion=是否同时删除您的 Qwen Desktop 数据(设置、聊天记录、笔记索引和日志)?%n%n%1%n%n选择"否"可保留这些数据,以便日后重新安装时继续使用。

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; The whole PyInstaller bundle: QwenDesktop.exe, qwen-desktop-cli.exe and _internal\.
Source: "{#BundleDir}\{#AppExe}"; DestDir: "{app}"; Flags: ignoreversion
Source: "{#BundleDir}\qwen-desktop-cli.exe"; DestDir: "{app}"; Flags: ignoreversion
Source: "{#BundleDir}\_internal\*"; DestDir: "{app}\_internal"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Python's byte-code caches, should anything have written them beside the bundle.
Type: filesandordirs; Name: "{app}\_internal\__pycache__"

[Code]
var
  DeleteUserData: Boolean;

function UserDataFolder: String;
begin
  Result := ExpandConstant('{userappdata}\{#DataFolderName}');
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if CurUninstallStep = usUninstall then
  begin
    { Ask before anything is removed; No is the default, and a silent uninstall keeps the data. }
    DeleteUserData := False;
    if DirExists(UserDataFolder) and not UninstallSilent then
      DeleteUserData := MsgBox(FmtMessage(CustomMessage('DeleteDataQuestion'), [UserDataFolder]),
        mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES;
  end;
  if (CurUninstallStep = usPostUninstall) and DeleteUserData then
    DelTree(UserDataFolder, True, True, True);
end;
