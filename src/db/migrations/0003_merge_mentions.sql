CREATE TABLE "conversation_mentions" (
	"workspace_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"message_id" uuid NOT NULL,
	"conversation_id" uuid NOT NULL,
	"author_id" uuid,
	"read_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "conversation_mentions_workspace_id_user_id_message_id_pk" PRIMARY KEY("workspace_id","user_id","message_id")
);
--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "merged_into_id" uuid;--> statement-breakpoint
CREATE INDEX "conversation_mentions_user_idx" ON "conversation_mentions" USING btree ("workspace_id","user_id","created_at" DESC NULLS LAST);