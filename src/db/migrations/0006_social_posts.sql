CREATE TABLE "social_posts" (
	"workspace_id" uuid NOT NULL,
	"inbox_id" uuid NOT NULL,
	"external_id" text NOT NULL,
	"text" text,
	"permalink_url" text,
	"media_url" text,
	"posted_at" timestamp with time zone,
	"fetched_at" timestamp with time zone,
	"last_error" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "social_posts_workspace_id_inbox_id_external_id_pk" PRIMARY KEY("workspace_id","inbox_id","external_id")
);
