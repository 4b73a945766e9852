--
-- Bookstore schema (PostgreSQL 15), as pg_dump and hand edits leave it.
--
SET statement_timeout = 0;
SET client_encoding = 'UTF8';

CREATE TYPE public.order_status AS ENUM ('pending', 'paid', 'shipped', 'delivered', 'cancelled');

CREATE TABLE public.authors (
    author_id    serial PRIMARY KEY,
    first_name   varchar(60) NOT NULL,
    last_name    varchar(60) NOT NULL,
    email        text UNIQUE,
    born_on      date,
    country_code char(2) NOT NULL DEFAULT 'US',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz
);
COMMENT ON TABLE public.authors IS 'People who write the books';

CREATE TABLE public.books (
    book_id      bigint GENERATED ALWAYS AS IDENTITY,
    isbn         char(13) NOT NULL,
    title        varchar(200) NOT NULL,
    author_id    integer NOT NULL REFERENCES public.authors (author_id) ON DELETE RESTRICT,
    price        numeric(8,2) NOT NULL CHECK (price > 0),
    pages        smallint CHECK (pages BETWEEN 1 AND 5000),
    format       text NOT NULL DEFAULT 'paperback' CHECK (format IN ('hardcover', 'paperback', 'ebook', 'audio')),
    published    date,
    metadata     jsonb,
    is_active    boolean NOT NULL DEFAULT true,
    CONSTRAINT books_pkey PRIMARY KEY (book_id),
    CONSTRAINT books_isbn_key UNIQUE (isbn)
);

CREATE TABLE public."Customer Accounts" (
    id           uuid DEFAULT gen_random_uuid() NOT NULL,
    "E-mail"     varchar(120) NOT NULL,
    "select"     text,                     -- a reserved word as a column name
    referred_by  uuid,                     -- self-reference
    balance      numeric(12,2) DEFAULT 0 NOT NULL,
    signup_ts    timestamp without time zone NOT NULL,
    PRIMARY KEY (id)
);

CREATE TABLE public.orders (
    order_id     bigserial PRIMARY KEY,
    customer_id  uuid NOT NULL,
    status       public.order_status NOT NULL DEFAULT 'pending',
    ordered_at   timestamp with time zone NOT NULL,
    shipped_at   timestamp with time zone,
    total        numeric(12,2) NOT NULL,
    CONSTRAINT orders_total_check CHECK (total >= 0)
);

/* order lines: composite primary key */
CREATE TABLE public.order_items (
    order_id   bigint NOT NULL,
    line_no    integer NOT NULL,
    book_id    bigint NOT NULL,
    quantity   integer NOT NULL DEFAULT 1 CHECK (quantity > 0 AND quantity <= 100),
    unit_price numeric(8,2) NOT NULL,
    PRIMARY KEY (order_id, line_no)
);

/* returned lines: a composite reference to an order line */
CREATE TABLE public.item_returns (
    return_id   bigserial PRIMARY KEY,
    order_id    bigint NOT NULL,
    line_no     integer NOT NULL,
    reason      text CHECK (reason IN ('damaged', 'late', 'wrong item')),
    returned_at timestamp with time zone NOT NULL,
    CONSTRAINT item_returns_line_fkey FOREIGN KEY (order_id, line_no) REFERENCES public.order_items (order_id, line_no)
);

ALTER TABLE ONLY public."Customer Accounts"
    ADD CONSTRAINT customer_accounts_referred_by_fkey FOREIGN KEY (referred_by) REFERENCES public."Customer Accounts"(id);
ALTER TABLE ONLY public.orders
    ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES public."Customer Accounts"(id);
ALTER TABLE ONLY public.order_items
    ADD CONSTRAINT order_items_order_id_fkey FOREIGN KEY (order_id) REFERENCES public.orders(order_id) ON DELETE CASCADE;
ALTER TABLE ONLY public.order_items
    ADD CONSTRAINT order_items_book_id_fkey FOREIGN KEY (book_id) REFERENCES public.books(book_id);

CREATE INDEX orders_customer_idx ON public.orders USING btree (customer_id);
CREATE UNIQUE INDEX authors_name_uidx ON public.authors (last_name, first_name);

CREATE VIEW public.book_sales AS
    SELECT b.book_id, sum(oi.quantity) AS sold FROM public.books b JOIN public.order_items oi USING (book_id) GROUP BY b.book_id;

INSERT INTO public.authors (first_name, last_name, email) VALUES ('Ada', 'Lovelace', 'ada@example.com');
GRANT SELECT ON ALL TABLES IN SCHEMA public TO reporting;
