"""Pieces every wire schema shares."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ResponseModel(BaseModel):
    """Base of response bodies: built from ORM rows or dicts by attribute name."""

    model_config = ConfigDict(from_attributes=True)


class RequestModel(BaseModel):
    """Base of request bodies: unknown fields are rejected so typos are reported, not ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
