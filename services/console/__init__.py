"""The web workbench (热线工作台): Chinese pages for units, the agency and supervisors that
read and write only through the three services' public APIs, with the user's own token."""
