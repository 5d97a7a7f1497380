"""The events a portal sends to a registration (see :mod:`regflow`)."""

from ._events import (
    AcceptAgreement,
    CompleteMlmsTraining,
    CompleteProfile,
    CompleteVendorTraining,
    ConfirmTracker,
    ContactHelpDesk,
    DeclineAgreement,
    EnrollCurriculum,
    Event,
    LaunchVendorTraining,
    ObserveFindLocalHelp,
    ObserveRclListing,
    PortalLogin,
    PrintCertificate,
    Reinstate,
    SaveProfile,
    StartRegistration,
    Terminate,
)

__all__ = [
    "AcceptAgreement",
    "CompleteMlmsTraining",
    "CompleteProfile",
    "CompleteVendorTraining",
    "ConfirmTracker",
    "ContactHelpDesk",
    "DeclineAgreement",
    "EnrollCurriculum",
    "Event",
    "LaunchVendorTraining",
    "ObserveFindLocalHelp",
    "ObserveRclListing",
    "PortalLogin",
    "PrintCertificate",
    "Reinstate",
    "SaveProfile",
    "StartRegistration",
    "Terminate",
]

