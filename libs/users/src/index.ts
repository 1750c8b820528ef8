export { User, toUserView, type UserView } from './user.entity';
export { UserRepository } from './user.repository';
export { UsersModule } from './users.module';
export { canonicalEmail, emailLocalPart, normalizeEmail } from './email';
