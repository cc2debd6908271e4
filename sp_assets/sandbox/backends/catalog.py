"""Catalog Items (v0 listCatalogCategories, 2022-04-01 searchCatalogItems/getCatalogItem): what the
catalog says about the seller's products.

Everything derives from the seller's catalog (``seller.products``): the browse classification chain is
the product's category under its department, identifiers (EAN/UPC/GTIN) are derived from the ASIN,
color variants of one template share a variation parent ASIN, and sales ranks change daily. The
Product Pricing backend reads :meth:`CatalogBackend.sales_ranks` so both APIs report the same ranks.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sp_assets.lib.marketplaces import by_id
from sp_assets.sandbox.seller import Product, SyntheticSeller

INCLUDED_DATA = ("attributes", "classifications", "dimensions", "identifiers", "images", "productTypes",
                 "relationships", "salesRanks", "summaries", "vendorDetails")
IDENTIFIER_TYPES = ("ASIN", "EAN", "GTIN", "ISBN", "JAN", "MINSAN", "SKU", "UPC")
MAX_RESULTS = 1000  # Amazon pages through at most 1,000 ASINs of a search

# Department (the root of a product's browse chain) per category key: id, website display group, product type.
_DEPARTMENTS = {
    "kitchen": ("1055398", "home_display_on_website", "KITCHEN"),
    "electronics": ("172282", "ce_display_on_website", "ELECTRONIC_CABLE"),
    "sports": ("3375301", "sporting_goods_display_on_website", "SPORTING_GOODS"),
    "toys": ("165795011", "toy_display_on_website", "TOYS_AND_GAMES"),
    "office": ("1064954", "office_product_display_on_website", "OFFICE_PRODUCTS"),
}
_LANGUAGE = {"jp": "ja_JP", "de": "de_DE", "fr": "fr_FR", "it": "it_IT", "es": "es_ES", "uk": "en_GB",
             "ca": "en_CA", "mx": "es_MX", "br": "pt_BR", "nl": "nl_NL", "se": "sv_SE", "pl": "pl_PL",
             "tr": "tr_TR", "be": "fr_BE", "au": "en_AU", "sg": "en_SG", "in": "en_IN", "ae": "ar_AE",
             "sa": "ar_SA", "eg": "ar_EG", "za": "en_ZA", "ie": "en_IE"}


def language_tag(marketplace_id: str) -> str:
    """The marketplace's default language, as Amazon names it (``en_US``)."""
    return _LANGUAGE.get(by_id(marketplace_id).code, "en_US")


@dataclass(frozen=True)
class Category:
    """One node of a browse chain; ``parent`` is None at the department (root)."""

    category_id: str
    name: str
    parent: Category | None = None


@dataclass(frozen=True)
class SalesRanks:
    classification_rank: int  # rank in the product's leaf category
    display_group_rank: int  # rank in its website display group (department)


def _digits(*parts: object, width: int) -> str:
    digest = hashlib.blake2b(":".join(str(p) for p in parts).encode(), digest_size=8).digest()
    return f"{int.from_bytes(digest, 'big') % 10**width:0{width}d}"


def _code(*parts: object, width: int) -> str:
    """Upper-case base-36 characters derived from ``parts`` (ASIN-like identifiers)."""
    number = int.from_bytes(hashlib.blake2b(":".join(str(p) for p in parts).encode(), digest_size=8).digest(), "big")
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = []
    for _ in range(width):
        number, rem = divmod(number, 36)
        out.append(alphabet[rem])
    return "".join(out)


def _check_digit(body: str) -> str:
    """GS1 check digit (EAN-13, UPC-A, GTIN-14 share it)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


class CatalogBackend:
    """Catalog data over the synthetic seller. Stateless besides the seller."""

    def __init__(self, seller: SyntheticSeller) -> None:
        self.seller = seller

    # ------------------------------------------------------------------------------ ground truth
    def category_chain(self, product: Product) -> Category:
        department_id = _DEPARTMENTS[product.category_key][0]
        return Category(product.category_id, product.category_name, Category(department_id, product.parent_category))

    @staticmethod
    def display_group(product: Product) -> str:
        """The website display group (``home_display_on_website``...) of the product's department."""
        return _DEPARTMENTS[product.category_key][1]

    def categories(self, marketplace_id: str, asin: str | None = None,
                   sku: str | None = None) -> list[Category] | None:
        """listCatalogCategories' answer: the product's leaf categories, or None for an unknown product."""
        product = (self.seller.product_by_asin(marketplace_id, asin) if asin is not None
                   else self.seller.product(marketplace_id, sku or ""))
        return None if product is None else [self.category_chain(product)]

    def identifiers(self, product: Product) -> dict[str, str]:
        """Barcodes of a product, derived from its ASIN: UPC (12 digits), EAN (0 + UPC) and GTIN-14."""
        body = "8" + _digits(self.seller.seed, "upc", product.asin, width=10)
        upc = body + _check_digit(body)
        return {"EAN": "0" + upc, "GTIN": "00" + upc, "UPC": upc}

    def variation_parent(self, marketplace_id: str, product: Product) -> str:
        """The parent ASIN shared by the colour variants of one product template (5 per template)."""
        index = [p.asin for p in self.seller.products(marketplace_id)].index(product.asin)
        return "B0" + _code(self.seller.seed, "parent", index // 5, width=8)

    def sales_ranks(self, marketplace_id: str, product: Product, day: date) -> SalesRanks:
        """The product's best-seller ranks on a UTC day: they move daily, busier marketplaces rank lower."""
        rng = self.seller.rng("rank", marketplace_id, product.asin, day.toordinal())
        base = 1 + int(self.seller.rng("rank-base", marketplace_id, product.asin).randrange(1, 400))
        classification = max(1, int(base * rng.uniform(0.6, 1.6)))
        return SalesRanks(classification, classification * rng.randint(15, 60) + rng.randrange(100))

    def search(self, marketplace_id: str, keywords: Sequence[str] = (), identifiers: Sequence[str] = (),
               identifiers_type: str | None = None, brand_names: Sequence[str] = (),
               classification_ids: Sequence[str] = ()) -> list[Product]:
        """Products matching a search, in catalog order, capped at Amazon's 1,000.

        Keywords are ANDed and matched case-insensitively against title and brand (Japanese titles too);
        identifiers match by ``identifiers_type`` (ASIN, SKU, EAN, UPC, GTIN; others find nothing).
        """
        products = self.seller.products(marketplace_id)
        if identifiers:
            wanted = set(identifiers)
            found = [p for p in products if self._identifier_of(p, identifiers_type or "") in wanted]
        else:
            words = [w.casefold() for w in keywords]
            found = [p for p in products
                     if all(w in f"{p.title} {p.brand}".casefold() for w in words)]
            if brand_names:
                brands = {b.casefold() for b in brand_names}
                found = [p for p in found if p.brand.casefold() in brands]
            if classification_ids:
                ids = set(classification_ids)
                found = [p for p in found
                         if p.category_id in ids or _DEPARTMENTS[p.category_key][0] in ids]
        return _unique_asins(found)[:MAX_RESULTS]

    def _identifier_of(self, product: Product, identifiers_type: str) -> str | None:
        if identifiers_type == "ASIN":
            return product.asin
        if identifiers_type == "SKU":
            return product.sku
        return self.identifiers(product).get(identifiers_type)

    # -------------------------------------------------------------------------------- rendering
    def refinements(self, marketplace_id: str, products: Iterable[Product]) -> dict[str, Any]:
        brands: Counter[str] = Counter()
        classes: Counter[tuple[str, str]] = Counter()
        for product in products:
            brands[product.brand] += 1
            classes[(product.category_id, product.category_name)] += 1
        return {
            "brands": [{"numberOfResults": n, "brandName": b} for b, n in sorted(brands.items())],
            "classifications": [{"numberOfResults": n, "displayName": name, "classificationId": cid}
                                for (cid, name), n in sorted(classes.items())],
        }

    def render_item(self, asin: str, marketplace_ids: Sequence[str], included: Sequence[str],
                    as_of: datetime) -> dict[str, Any] | None:
        """An Item as searchCatalogItems/getCatalogItem render it; None if no marketplace lists the ASIN."""
        found = [(mp, p) for mp in marketplace_ids
                 if (p := self.seller.product_by_asin(mp, asin)) is not None]
        if not found:
            return None
        item: dict[str, Any] = {"asin": asin}
        for dataset in included:
            entries = [e for mp, p in found if (e := self._dataset(dataset, mp, p, as_of)) is not None]
            if entries:
                item[dataset] = entries[0] if dataset == "attributes" else entries
        return item

    def _dataset(self, dataset: str, mp: str, product: Product, as_of: datetime) -> dict[str, Any] | None:
        renderer = {
            "summaries": self._summary, "classifications": self._classifications,
            "identifiers": self._identifiers, "salesRanks": self._sales_ranks, "images": self._images,
            "productTypes": self._product_type, "relationships": self._relationships,
            "dimensions": self._dimensions, "attributes": self._attributes,
        }.get(dataset)
        return None if renderer is None else renderer(mp, product, as_of)  # vendorDetails: vendors only

    def _summary(self, mp: str, product: Product, as_of: datetime) -> dict[str, Any]:
        department = _DEPARTMENTS[product.category_key]
        return {
            "marketplaceId": mp, "brand": product.brand, "itemName": product.title,
            "manufacturer": product.brand, "modelNumber": product.sku, "partNumber": product.sku,
            "itemClassification": "BASE_PRODUCT", "packageQuantity": 1,
            "browseClassification": {"displayName": product.category_name, "classificationId": product.category_id},
            "color": _colour(product.title),
            "websiteDisplayGroup": department[1], "websiteDisplayGroupName": product.parent_category,
        }

    def _classifications(self, mp: str, product: Product, as_of: datetime) -> dict[str, Any]:
        return {"marketplaceId": mp, "classifications": [classification_json(self.category_chain(product))]}

    def _identifiers(self, mp: str, product: Product, as_of: datetime) -> dict[str, Any]:
        return {"marketplaceId": mp, "identifiers": [
            {"identifierType": kind, "identifier": value} for kind, value in self.identifiers(product).items()]}

    def _sales_ranks(self, mp: str, product: Product, as_of: datetime) -> dict[str, Any]:
        ranks = self.sales_ranks(mp, product, as_of.date())
        domain = by_id(mp).domain
        department = _DEPARTMENTS[product.category_key]
        return {
            "marketplaceId": mp,
            "classificationRanks": [{"classificationId": product.category_id, "title": product.category_name,
                                     "link": f"http://www.{domain}/gp/bestsellers/{product.category_key}/"
                                             f"{product.category_id}",
                                     "rank": ranks.classification_rank}],
            "displayGroupRanks": [{"websiteDisplayGroup": department[1], "title": product.parent_category,
                                   "link": f"http://www.{domain}/gp/bestsellers/{product.category_key}",
                                   "rank": ranks.display_group_rank}],
        }

    def _images(self, mp: str, product: Product, as_of: datetime) -> dict[str, Any]:
        key = _digits(self.seller.seed, "image", product.asin, width=11)
        return {"marketplaceId": mp, "images": [
            {"variant": "MAIN", "link": f"https://m.media-amazon.com/images/I/{key}L.jpg", "height": 1500,
             "width": 1500},
            {"variant": "MAIN", "link": f"https://m.media-amazon.com/images/I/{key}S.jpg", "height": 500,
             "width": 500},
        ]}

    def _product_type(self, mp: str, product: Product, as_of: datetime) -> dict[str, Any]:
        return {"marketplaceId": mp, "productType": _DEPARTMENTS[product.category_key][2]}

    def _relationships(self, mp: str, product: Product, as_of: datetime) -> dict[str, Any]:
        return {"marketplaceId": mp, "relationships": [
            {"type": "VARIATION", "parentAsins": [self.variation_parent(mp, product)],
             "variationTheme": {"attributes": ["color"], "theme": "COLOR_NAME"}}]}

    def _dimensions(self, mp: str, product: Product, as_of: datetime) -> dict[str, Any]:
        rng = self.seller.rng("dimensions", product.asin)
        size = [round(rng.uniform(2, 30), 2) for _ in range(3)]
        weight = round(rng.uniform(0.1, 3.0), 2)

        def box(pad: float) -> dict[str, Any]:
            return {"height": {"unit": "inches", "value": round(size[0] + pad, 2)},
                    "length": {"unit": "inches", "value": round(size[1] + pad, 2)},
                    "width": {"unit": "inches", "value": round(size[2] + pad, 2)},
                    "weight": {"unit": "pounds", "value": round(weight + pad / 10, 2)}}

        return {"marketplaceId": mp, "item": box(0.0), "package": box(1.0)}

    def _attributes(self, mp: str, product: Product, as_of: datetime) -> dict[str, Any]:
        tag = language_tag(mp)
        return {
            "item_name": [{"value": product.title, "language_tag": tag, "marketplace_id": mp}],
            "brand": [{"value": product.brand, "language_tag": tag, "marketplace_id": mp}],
            "color": [{"value": _colour(product.title), "language_tag": tag, "marketplace_id": mp}],
        }


def classification_json(category: Category) -> dict[str, Any]:
    """A browse chain as Catalog 2022-04-01 renders it: the root has no ``parent`` key."""
    out: dict[str, Any] = {"displayName": category.name, "classificationId": category.category_id}
    if category.parent is not None:
        out["parent"] = classification_json(category.parent)
    return out


def category_json(category: Category) -> dict[str, Any]:
    """A browse chain as Catalog v0 renders it: the root's ``parent`` is ``{}``."""
    return {"ProductCategoryId": category.category_id, "ProductCategoryName": category.name,
            "parent": {} if category.parent is None else category_json(category.parent)}


def _colour(title: str) -> str:
    """The variant's colour: after the last comma (en/de titles) or the last space (ja titles)."""
    return title.rsplit(",", 1)[1].strip() if "," in title else title.rsplit(" ", 1)[-1]


def _unique_asins(products: Iterable[Product]) -> list[Product]:
    seen: set[str] = set()
    out = []
    for product in products:
        if product.asin not in seen:
            seen.add(product.asin)
            out.append(product)
    return out
