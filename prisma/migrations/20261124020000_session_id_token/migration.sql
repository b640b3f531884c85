-- AlterTable
ALTER TABLE "tickets" ADD COLUMN     "id_token_enc" TEXT;
