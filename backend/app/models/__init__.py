"""Every table, imported here so `Base.metadata` knows them all."""

from app.models.application import Application, ApplicationLog, ApplicationStatus, AppliedVia
from app.models.board import JobBoard, ScanRun, ScanStatus
from app.models.job import Job, JobScore, WorkplaceType
from app.models.profile import Education, UserProfile, WorkExperience

__all__ = [
    "Application",
    "ApplicationLog",
    "ApplicationStatus",
    "AppliedVia",
    "Education",
    "Job",
    "JobBoard",
    "JobScore",
    "ScanRun",
    "ScanStatus",
    "UserProfile",
    "WorkExperience",
    "WorkplaceType",
]
