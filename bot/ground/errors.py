"""Domain errors carry a message written for the person who caused them."""


class UserError(Exception):
    """A refusal or a mistake the user can fix; its message is shown to them as is."""


class UnknownMention(UserError):
    def __init__(self, reference: str) -> None:
        super().__init__(f"There is no mention {reference}. References look like `M-7` (or just `7`).")


class AlreadyClaimed(UserError):
    def __init__(self, reference: str, owner_id: str) -> None:
        self.owner_id = owner_id
        super().__init__(f"{reference} is already claimed by <@{owner_id}>.")


class NotOwner(UserError):
    pass


class MentionClosed(UserError):
    pass


class ConfigError(Exception):
    """The configuration cannot be used; the message names the setting and what is wrong."""
