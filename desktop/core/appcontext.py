"""The application context: everything a face needs, built once per process.

Both faces build it the same way — the window in its composition root, the command line per
command — so the settings store, the key store, the client, the chat history and the services are
one set, wired once: the chat service asks the notes service for its retriever, the notes service
reads the settings and saves its folder list through the same store as the Settings tab.
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop.core import paths
from desktop.core import settings as settings_mod
from desktop.core.backup.service import BackupService, session_secrets
from desktop.core.chat import ChatService
from desktop.core.history import HistoryStore
from desktop.core.notes.service import NotesService
from desktop.core.recovery import DataFile, Recovery
from desktop.core.runtime import Session
from desktop.core.secrets import KeyStore
from desktop.core.settings_store import SettingsStore


@dataclass
class AppContext:
    session: Session  # settings (through the store), key, and the one client
    history: HistoryStore
    chat: ChatService
    notes: NotesService
    # Damaged data files found while building: set aside, replaced, to be said by the face.
    recoveries: tuple[Recovery, ...] = ()
    backups: BackupService | None = None  # None only where a test builds the context by hand

    @property
    def settings_recovery(self) -> Recovery | None:
        return next((r for r in self.recoveries if r.file is DataFile.SETTINGS), None)

    @classmethod
    def create(cls, key_store: KeyStore | None = None) -> AppContext:
        """From the data directory (:mod:`desktop.core.paths`). The key is not read here: reading
        it may block (keyring over D-Bus), so await ``session.refresh_key()``."""
        settings, recovery = settings_mod.load_with_recovery()
        store = SettingsStore(paths.settings_file(), settings)
        session = Session(settings, key_store or KeyStore(), store)
        backups = BackupService(paths.data_dir(), session_secrets(session))
        backups.before_start()  # before the history may migrate, or another version ran last
        history, history_recovery = HistoryStore.open(paths.history_db())
        notes = NotesService(session, paths.notes_db())
        # Without the user's folder list (defaults after a damaged file), keep every folder's index.
        notes.forget_missing_folders = recovery is None or recovery.restored_from is not None
        chat = ChatService(history, retrievers=notes.retriever)
        context = cls(session, history, chat, notes,
                      tuple(r for r in (recovery, history_recovery) if r is not None), backups)
        if recovery is not None:
            store.save_soon()  # write the recovered settings back (the damaged file is aside)
        return context

    async def aclose(self) -> None:
        """Stop the notes work, write what is pending in settings, close the client and history."""
        await self.notes.aclose()
        await self.session.aclose()
        self.history.close()
