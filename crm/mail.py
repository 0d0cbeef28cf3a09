"""Mail in development: printed where the processes print, framed so that it is easy to
find among the log lines (EMAIL_URL=consolemail://, the default)."""

from collections.abc import Sequence

from django.core.mail.backends.console import EmailBackend as ConsoleBackend
from django.core.mail.message import EmailMessage

RULE = "=" * 78


class FramedConsoleBackend(ConsoleBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = 0
        for message in email_messages:
            self.stream.write(
                f"{RULE}\nMAIL to {', '.join(message.to)}: {message.subject}\n{RULE}\n"
            )
            sent += super().send_messages([message])
            self.stream.write(f"{RULE}\n")
            self.stream.flush()
        return sent
