"""Organs: typed graphs of nodes with roles, ordered channels and the gates they need.

* `graph`: pure validation of an OrganTemplate against the nodes it names
  (resolvable, typed channels, no cycles, roles bound), giving the graph, its
  topological order and problems with exact pointers into the template;
* `picture`: the graph as SVG through graphviz's `dot`, nodes coloured by state.
"""
from .graph import GraphReport, Member, Problem, role_bindings, validate

__all__ = ["GraphReport", "Member", "Problem", "role_bindings", "validate"]
