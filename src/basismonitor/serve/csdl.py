"""$metadata of one edition: CSDL XML (what Power Query and Excel read) and CSDL JSON."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from basismonitor.serve.model import NAMESPACE, Table, short_and_long

CORE = "Org.OData.Core.V1"
CORE_URL = "https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Core.V1.xml"
CONTAINER = "Container"


def _annotations_xml(text: str | None, indent: str) -> list[str]:
    short, long = short_and_long(text)
    lines = []
    if short:
        lines.append(f'{indent}<Annotation Term="Core.Description" String={quoteattr(short)}/>')
    if long:
        lines.append(f'{indent}<Annotation Term="Core.LongDescription" '
                     f'String={quoteattr(long)}/>')
    return lines


def metadata_xml(tables: dict[str, Table], edition: str) -> str:
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">',
        f'  <edmx:Reference Uri="{CORE_URL}">',
        f'    <edmx:Include Namespace="{CORE}" Alias="Core"/>',
        "  </edmx:Reference>",
        "  <edmx:DataServices>",
        f'    <Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="{NAMESPACE}">',
    ]
    for table in tables.values():
        out.append(f"      <EntityType Name={quoteattr(table.entity_type)}>")
        out.append("        <Key>")
        out += [f"          <PropertyRef Name={quoteattr(k)}/>" for k in table.key]
        out.append("        </Key>")
        for column in table.columns.values():
            facets = ""
            if column.name in table.key:
                facets += ' Nullable="false"'
            if column.edm_type == "Edm.Decimal" and column.precision is not None:
                facets += f' Precision="{column.precision}" Scale="{column.scale}"'
            elif column.edm_type == "Edm.Decimal":
                facets += ' Scale="variable"'
            if column.edm_type == "Edm.DateTimeOffset":
                facets += ' Precision="6"'
            annotations = _annotations_xml(column.description, "          ")
            head = (f"        <Property Name={quoteattr(column.name)} "
                    f"Type={quoteattr(column.type_name)}{facets}")
            if annotations:
                out += [head + ">", *annotations, "        </Property>"]
            else:
                out.append(head + "/>")
        for nav in table.navigation.values():
            out.append(f"        <NavigationProperty Name={quoteattr(nav.name)} "
                       f"Type={quoteattr(NAMESPACE + '.' + nav.target)}>")
            out += [f"          <ReferentialConstraint Property={quoteattr(here)} "
                    f"ReferencedProperty={quoteattr(there)}/>" for here, there in nav.pairs]
            out.append("        </NavigationProperty>")
        out += _annotations_xml(table.description, "        ")
        out.append("      </EntityType>")
    out.append(f"      <EntityContainer Name={quoteattr(CONTAINER)}>")
    for table in tables.values():
        out.append(f"        <EntitySet Name={quoteattr(table.name)} "
                   f"EntityType={quoteattr(NAMESPACE + '.' + table.entity_type)}>")
        out += [f"          <NavigationPropertyBinding Path={quoteattr(nav.name)} "
                f"Target={quoteattr(nav.target)}/>" for nav in table.navigation.values()]
        out += _annotations_xml(table.description, "          ")
        out.append("        </EntitySet>")
    out.append("      </EntityContainer>")
    out.append(f'      <Annotations Target="{NAMESPACE}.{CONTAINER}">')
    out.append(f'        <Annotation Term="Core.Description" '
               f'String={quoteattr(f"Basismonitor, edition {edition}: the published marts")}/>')
    out.append("      </Annotations>")
    out += ["    </Schema>", "  </edmx:DataServices>", "</edmx:Edmx>", ""]
    return "\n".join(out)


def _annotations_json(text: str | None) -> dict:
    short, long = short_and_long(text)
    found = {}
    if short:
        found["@Core.Description"] = short
    if long:
        found["@Core.LongDescription"] = long
    return found


def metadata_json(tables: dict[str, Table], edition: str) -> dict:
    schema: dict = {}
    for table in tables.values():
        entity: dict = {"$Kind": "EntityType", "$Key": list(table.key)}
        for column in table.columns.values():
            prop: dict = {}
            if column.edm_type != "Edm.String":
                prop["$Type"] = column.edm_type
            if column.collection:
                prop["$Collection"] = True
            if column.name not in table.key:
                prop["$Nullable"] = True
            if column.edm_type == "Edm.Decimal":
                if column.precision is not None:
                    prop["$Precision"], prop["$Scale"] = column.precision, column.scale
                else:
                    prop["$Scale"] = "variable"
            prop.update(_annotations_json(column.description))
            entity[column.name] = prop
        for nav in table.navigation.values():
            entity[nav.name] = {"$Kind": "NavigationProperty",
                                "$Type": f"{NAMESPACE}.{nav.target}",
                                "$Nullable": True,
                                "$ReferentialConstraint": dict(nav.pairs)}
        entity.update(_annotations_json(table.description))
        schema[table.entity_type] = entity
    container: dict = {"$Kind": "EntityContainer",
                       "@Core.Description": f"Basismonitor, edition {edition}: the published marts"}
    for table in tables.values():
        entry: dict = {"$Collection": True, "$Type": f"{NAMESPACE}.{table.entity_type}"}
        if table.navigation:
            entry["$NavigationPropertyBinding"] = {n.name: n.target
                                                   for n in table.navigation.values()}
        container[table.name] = entry
    schema[CONTAINER] = container
    return {"$Version": "4.0", "$EntityContainer": f"{NAMESPACE}.{CONTAINER}",
            "$Reference": {CORE_URL: {"$Include": [{"$Namespace": CORE, "$Alias": "Core"}]}},
            NAMESPACE: schema}
